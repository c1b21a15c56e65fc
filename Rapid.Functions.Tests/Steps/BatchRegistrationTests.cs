using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

/// <summary>
/// Registration in batches (many manifests per transaction, <see cref="RegisterCompletedJobs"/> with a batch size of 2 so
/// every night here spans several batches): one manifest that fails validation, or that the database refuses, fails
/// alone; a night registered again after post-processing, in batches mixing every stage, changes nothing; batches
/// registering the same jobs at once register each job once.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class BatchRegistrationTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private const int Tiles = 5;
    private OpsWorld _w = null!;

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        for (var i = 0; i < Tiles; i++)
        {
            var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(20 + 15 * i, -10 + 5 * i));
            await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 3);
            await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: 1 + i);
        }
    }

    public async Task DisposeAsync() => await _w.DisposeAsync();

    private RegisterCompletedJobs Register(int parallelism = 2) => new(_w.DataSource, _w.Store, _w.Keys, parallelism, batchSize: 2);

    private async Task<(PlanResult Plan, IReadOnlyList<JobConfig> Jobs)> PlanReferencesWithManifestsAsync()
    {
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var jobs = await _w.ConfigsAsync(plan);
        Assert.Equal(Tiles, jobs.Count);
        foreach (var job in jobs) await _w.WriteSuccessManifestAsync(job);
        return (plan, jobs);
    }

    private async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    [Fact]
    public async Task Each_attempt_of_a_batch_records_the_settings_of_its_own_manifest()
    {
        var (plan, jobs) = await PlanReferencesWithManifestsAsync();
        // Sent once per distinct value: jobs 0 and 3 share one, 1 has another, 2 none, 4 the planned one.
        var sigmas = new double?[] { 7.5, 9.25, null, 7.5, jobs[4].Settings.DetectionThresholdSigma };
        for (var i = 0; i < jobs.Count; i++)
        {
            var key = _w.Keys.Manifest(OpsWorld.ProcDate, jobs[i].Jid);
            var m = await Contract.ReadAsync<ProductManifest>(_w.Store, key);
            await Contract.WriteAsync(_w.Store, key, m with { Settings = sigmas[i] is { } s ? jobs[i].Settings with { DetectionThresholdSigma = s } : null });
        }
        Assert.Empty((await new RegisterCompletedJobs(_w.DataSource, _w.Store, _w.Keys, batchSize: Tiles).RegisterJobListAsync(plan.JobList!)).Failures);
        foreach (var (job, sigma) in jobs.Zip(sigmas))
            Assert.Equal(sigma, await ScalarAsync<double?>("select (settings->>'detectionThresholdSigma')::float8 from jobattempts where jid = @Jid", new { job.Jid }));
    }

    [Fact]
    public async Task One_invalid_manifest_among_valid_ones_closes_its_job_naming_the_field_and_the_rest_are_registered()
    {
        var (plan, jobs) = await PlanReferencesWithManifestsAsync();
        var bad = jobs[2];
        var key = _w.Keys.Manifest(OpsWorld.ProcDate, bad.Jid);
        var m = await Contract.ReadAsync<ProductManifest>(_w.Store, key);
        await Contract.WriteAsync(_w.Store, key, m with { Products = [m.Products[0] with { Checksum = m.Products[0].Checksum with { SizeBytes = -1 } }, .. m.Products.Skip(1)] });

        var report = await Register().RegisterJobListAsync(plan.JobList!);

        Assert.Equal((Tiles - 1, 1), (report.Registered, report.Rejected));
        var failure = Assert.Single(report.Failures);
        Assert.Equal(bad.Jid, failure.Jid);
        Assert.Contains("products[0]", failure.Message);
        Assert.Equal($"1 {ExitCodes.InvalidManifest}", await ScalarAsync<string>("select status || ' ' || exitcode from jobs where jid = @jid", new { jid = bad.Jid }));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from refimages where jid = @jid", new { jid = bad.Jid }));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from jobproducts where jid = @jid", new { jid = bad.Jid }));
        Assert.Equal(Tiles - 1, await ScalarAsync<int>("select count(*) from refimages where status = 1 and vbest = 1"));
        Assert.Equal(Tiles - 1, await ScalarAsync<int>("select count(*) from jobstates where state = 'registered'"));
    }

    [Fact]
    public async Task A_manifest_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_registered()
    {
        var (plan, jobs) = await PlanReferencesWithManifestsAsync();
        var refused = jobs[1];
        // A fault only the database sees (as a constraint or a trigger of a later schema would): the verdict and the
        // validation pass, the batch's transaction fails.
        await using (var conn = await _w.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync($"""
                create function refuse_job() returns trigger language plpgsql as $$
                begin
                  if new.jid = {refused.Jid} then raise exception 'refused by the test'; end if;
                  return new;
                end $$;
                create trigger refuse_job before insert on refimages for each row execute function refuse_job();
                """);

        var report = await Register().RegisterJobListAsync(plan.JobList!);

        Assert.Equal(Tiles - 1, report.Registered);
        var failure = Assert.Single(report.Failures);
        Assert.Equal(refused.Jid, failure.Jid);
        Assert.Contains("database rejected the registration: refused by the test", failure.Message);
        // Nothing of it registered, nothing recorded, its job still open for the next try.
        Assert.Equal(0, await ScalarAsync<int>("select status from jobs where jid = @jid", new { jid = refused.Jid }));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from jobproducts where jid = @jid", new { jid = refused.Jid }));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from files where jid = @jid", new { jid = refused.Jid }));
        Assert.Equal(Tiles - 1, await ScalarAsync<int>("select count(*) from refimages"));
        Assert.Equal(Tiles - 1, await ScalarAsync<int>("select count(*) from jobs where ppid = 12 and status = 1 and exitcode = 0"));
    }

    [Fact]
    public async Task A_night_registered_again_after_post_processing_in_mixed_batches_changes_nothing()
    {
        var lists = new List<ObjectRef>();
        var register = Register();
        foreach (var stage in new Func<Task<PlanResult>>[]
                 {
                     () => _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate),
                     () => _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate),
                     () => _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate),
                 })
        {
            var plan = await stage();
            foreach (var job in await _w.ConfigsAsync(plan)) await _w.WriteProductFilesAsync(await _w.WriteSuccessManifestAsync(job));
            var report = await register.RegisterJobListAsync(plan.JobList!);
            Assert.Empty(report.Failures);
            lists.Add(plan.JobList!);
        }
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from jobproducts where stamped_by is null"));
        var stamped = await SnapshotAsync();

        // Every manifest of the night again in one call: batches mixing references, science and post-processing.
        var all = new List<(long, ObjectRef)>();
        foreach (var list in lists) all.AddRange((await Contract.ReadAsync<JobList>(_w.Store, list)).Jobs.Select(j => (j.Jid, j.Manifest)));
        var again = await register.RegisterAsync(all);

        Assert.Equal((0, all.Count, 0, 0), (again.Registered, again.Unchanged, again.Failures.Count, again.Lost));
        Assert.Equal(stamped, await SnapshotAsync());
        Assert.Equal(0, (await _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate)).ArraySize);
    }

    [Fact]
    public async Task Batches_registering_the_same_jobs_at_once_register_each_job_once_with_one_best_per_key()
    {
        var (plan, jobs) = await PlanReferencesWithManifestsAsync();
        var entries = (await Contract.ReadAsync<JobList>(_w.Store, plan.JobList!)).Jobs.Select(j => (j.Jid, j.Manifest)).ToList();
        // The whole list twice, its first and second halves, and one manifest alone (the stream), all at once.
        var calls = new List<Task<RegistrationReport>>
        {
            Task.Run(() => Register(3).RegisterAsync(entries)),
            Task.Run(() => Register(3).RegisterAsync(entries)),
            Task.Run(() => Register(1).RegisterAsync(entries.Take(3).ToList())),
            Task.Run(() => Register(1).RegisterAsync(entries.Skip(2).ToList())),
            Task.Run(() => Register().RegisterManifestAsync(entries[4].Manifest)),
        };
        var reports = await Task.WhenAll(calls);

        Assert.All(reports, r => Assert.Empty(r.Failures));
        Assert.Equal(jobs.Count, reports.Sum(r => r.Registered));
        Assert.Equal(2 * Tiles + 3 + (Tiles - 2) + 1 - jobs.Count, reports.Sum(r => r.Unchanged));
        Assert.Equal(Tiles, await ScalarAsync<int>("select count(*) from refimages"));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from (select 1 from refimages group by field, fid, ppid having count(*) filter (where vbest > 0) <> 1) x"));
        Assert.Equal(Tiles * 4, await ScalarAsync<int>("select count(*) from jobproducts"));
        Assert.Equal(Tiles, await ScalarAsync<int>("select count(*) from jobstates where state = 'registered'"));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from (select uri from files where status = 'kept' group by uri having count(*) > 1) x"));
        Assert.Equal(Tiles * 5, await ScalarAsync<int>("select count(*) from files where kind in ('product', 'manifest') and jid = any(@jids)",
            new { jids = jobs.Select(j => j.Jid).ToArray() }));
    }

    /// <summary>Every row registration writes, as text (the product tables, the jobs as closed, the attempts' record).</summary>
    private Task<string> SnapshotAsync() => ScalarAsync<string>("""
        select concat_ws(' | ',
          (select string_agg(concat_ws(',', rfid, version, vbest, status, filename, checksum), ';' order by rfid) from refimages),
          (select string_agg(concat_ws(',', pid, version, vbest, status, rfid, filename, checksum), ';' order by pid) from diffimages),
          (select string_agg(concat_ws(',', jid, role, filename, sizebytes, sha256, md5, stamped_by), ';' order by jid, role) from jobproducts),
          (select string_agg(concat_ws(',', jid, status, exitcode, ended, manifest_sha256), ';' order by jid) from jobs),
          (select string_agg(concat_ws(',', jid, attempt, state, manifestsha256), ';' order by jid, attempt) from jobattempts),
          (select string_agg(concat_ws(',', uri, status, jid, attempt), ';' order by fileid) from files),
          (select count(*) from jobstates), (select count(*) from attemptsteps), (select count(*) from filederived),
          (select count(*) from refimimages), (select count(*) from diffimmeta))
        """);
}
