using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

/// <summary>
/// Registration is idempotent across stages: a night's reference, science (with injection-recovery) and post-processing
/// manifests registered, then registered again — as an SQS redelivery or dead-letter redrive would (one manifest), as a
/// retried Register λ would (the job list), twice at once — leave every row as post-processing left it.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class RegistrationIdempotenceTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    private readonly List<PlanResult> _plans = [];
    private readonly List<JobConfig> _jobs = [];

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(300, 30));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 3);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: 4);
    }

    public async Task DisposeAsync() => await _w.DisposeAsync();

    /// <summary>Reference, science and post-processing planned, run (manifests written) and registered, each stage once.</summary>
    private async Task NightAsync()
    {
        await StageAsync(await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate));
        await StageAsync(await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate), withRecovery: true);
        await StageAsync(await _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from jobproducts where stamped_by is null"));
    }

    private async Task StageAsync(PlanResult plan, bool withRecovery = false)
    {
        foreach (var c in await _w.ConfigsAsync(plan))
        {
            var m = await _w.WriteSuccessManifestAsync(c);
            if (withRecovery)
                await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, c.Jid), m with
                {
                    Products = [.. m.Products, _w.Product(OpsWorld.ProcDate, c.Jid, ProductRoles.InjectionRecovery, "injrecov.fits")],
                    Outcome = (ScienceOutcome)m.Outcome! with
                    {
                        InjectionRecovery = new InjectionRecoveryResult
                        {
                            Seed = 3, PsfSource = "model", MatchRadiusPixels = 1, AreaDeg2 = 0.01, Fakes = new RecoveryFigures { Injected = 10, Found = 6 },
                        },
                    },
                });
            _jobs.Add(c);
        }
        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);
        Assert.Empty(report.Failures);
        _plans.Add(plan);
    }

    /// <summary>Every row registration writes (file names, checksums, versions, vbest, the jobs as closed), as text.</summary>
    private Task<string> SnapshotAsync() => ScalarAsync<string>("""
        select concat_ws(' | ',
          (select string_agg(concat_ws(',', rfid, version, vbest, status, filename, checksum), ';' order by rfid) from refimages),
          (select string_agg(concat_ws(',', rfcatid, filename, checksum), ';' order by rfcatid) from refimcatalogs),
          (select string_agg(concat_ws(',', pid, version, vbest, status, rfid, filename, checksum), ';' order by pid) from diffimages),
          (select string_agg(concat_ws(',', jid, role, filename, sizebytes, sha256, md5, stamped_by), ';' order by jid, role) from jobproducts),
          (select string_agg(concat_ws(',', jid, pid, filename, checksum), ';' order by jid) from recoveryjobs),
          (select string_agg(concat_ws(',', jid, status, exitcode, ended, manifest_sha256), ';' order by jid) from jobs),
          (select count(*) from refimimages), (select count(*) from diffimmeta), (select count(*) from recoveryfigures))
        """);

    private async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    [Fact]
    public async Task Every_manifest_registered_again_after_post_processing_changes_nothing_and_post_processing_is_not_planned_again()
    {
        await NightAsync();
        var stamped = await SnapshotAsync();
        Assert.Contains("_pid", stamped);

        // A redelivered S3 event per manifest (the streaming registration), then a retried Register λ per stage.
        foreach (var job in _jobs)
        {
            var again = await _w.Register.RegisterManifestAsync(_w.Keys.Manifest(OpsWorld.ProcDate, job.Jid));
            Assert.Equal((0, 1), (again.Registered, again.Unchanged));
        }
        foreach (var plan in _plans)
            Assert.Equal(0, (await _w.Register.RegisterJobListAsync(plan.JobList!)).Registered);

        Assert.Equal(stamped, await SnapshotAsync());
        Assert.Equal(0, (await _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate)).ArraySize);
    }

    [Fact]
    public async Task The_same_manifest_registered_many_times_at_once_after_post_processing_changes_nothing()
    {
        await NightAsync();
        var stamped = await SnapshotAsync();

        var reports = await Task.WhenAll(_jobs.SelectMany(j => Enumerable.Repeat(j, 4))
            .Select(j => Task.Run(() => _w.Register.RegisterManifestAsync(_w.Keys.Manifest(OpsWorld.ProcDate, j.Jid)))));

        Assert.All(reports, r => Assert.Equal((0, 1, 0), (r.Registered, r.Unchanged, r.Failures.Count)));
        Assert.Equal(stamped, await SnapshotAsync());
    }

    [Fact]
    public async Task A_new_manifest_registered_twice_at_once_is_registered_once()
    {
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var config = Assert.Single(await _w.ConfigsAsync(plan));
        await _w.WriteSuccessManifestAsync(config);
        var key = _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid);

        var reports = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => _w.Register.RegisterManifestAsync(key))));

        Assert.Equal((1, 5), (reports.Sum(r => r.Registered), reports.Sum(r => r.Unchanged)));
        Assert.Equal("1 1 1", await ScalarAsync<string>("select count(*) || ' ' || min(version) || ' ' || min(vbest) from refimages"));
        Assert.Equal(4, await ScalarAsync<int>("select count(*) from jobproducts"));
    }

    [Fact]
    public async Task A_manifest_of_an_earlier_run_is_not_registered_over_a_later_plan_of_its_job()
    {
        await NightAsync();
        var science = _jobs.Single(j => j.Spec is ScienceSpec);
        _w.Options = _w.Options with { Force = true };
        var replan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        Assert.Equal(science.Jid, Assert.Single(await _w.ConfigsAsync(replan)).Jid);

        // The earlier run's manifest, redelivered while the new run has written none: not registered, the job stays open.
        var stream = await _w.Register.RegisterManifestAsync(_w.Keys.Manifest(OpsWorld.ProcDate, science.Jid));
        Assert.Equal((0, 1, 0), (stream.Registered, stream.Stale, stream.Failures.Count));
        Assert.Equal(0, await ScalarAsync<int>("select status from jobs where jid = @Jid", new { science.Jid }));

        // After the run: it wrote no manifest of its own, so the job is lost, not closed with the earlier run's products.
        var after = await _w.Register.RegisterJobListAsync(replan.JobList!);
        Assert.Equal((0, 1, 1), (after.Registered, after.Stale, after.Lost));
        Assert.Equal(ExitCodes.Lost, await ScalarAsync<int>("select exitcode from jobs where jid = @Jid", new { science.Jid }));
    }
}
