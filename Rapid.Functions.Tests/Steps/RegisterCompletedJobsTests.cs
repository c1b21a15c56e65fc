using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Steps;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

[Collection(OpsDatabaseCollection.Name)]
public sealed class RegisterCompletedJobsTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private static readonly ProcessingDate NextDay = ProcessingDate.Parse("20280908");
    private OpsWorld _w = null!;
    private double _ra, _dec;
    private IReadOnlyList<L2FileRegistered> _earlier = [];

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(210, -15));
        (_ra, _dec) = (t.CenterRaDeg, t.CenterDecDeg);
        _earlier = await _w.EarlierImagesAsync(_ra, _dec, 5);
        await _w.TonightImageAsync(_ra, _dec);
    }

    public async Task DisposeAsync() => await _w.DisposeAsync();

    private async Task<(PlanResult Plan, JobConfig Config)> PlanReferenceAsync(ProcessingDate pd)
    {
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, pd);
        return (plan, Assert.Single(await _w.ConfigsAsync(plan)));
    }

    private async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    [Fact]
    public async Task Registers_a_reference_with_only_the_inputs_actually_co_added_and_closes_the_job()
    {
        var (plan, config) = await PlanReferenceAsync(OpsWorld.ProcDate);
        var coadded = config.SpecAs<ReferenceImageSpec>().Inputs.Take(3).Select(i => i.Rid).ToList();
        await _w.WriteSuccessManifestAsync(config, coadded: coadded);

        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);

        Assert.Equal((1, 1, 0), (report.Registered, report.ReferenceImages, report.Lost));
        Assert.Empty(report.Failures);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var job = await conn.QuerySingleAsync<(short Status, int ExitCode, double Elapsed, string BatchJobId)>(
            "select status, exitcode, elapsed, batch_job_id from jobs where jid = @Jid", new { config.Jid });
        Assert.Equal((1, 0, 42.0, $"local-{config.Jid}"), (job.Status, job.ExitCode, job.Elapsed, job.BatchJobId));
        var rfid = await conn.ExecuteScalarAsync<long>("select rfid from refimages where jid = @Jid and version = 1 and vbest = 1", new { config.Jid });
        Assert.Equal(coadded.Order(), (await conn.QueryAsync<long>("select rid from refimimages where rfid = @rfid", new { rfid })).Order());
        Assert.Equal(3, await conn.ExecuteScalarAsync<int>("select nframes from refimmeta where rfid = @rfid", new { rfid }));
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from refimcatalogs where rfid = @rfid", new { rfid }));
        Assert.Equal(4, await conn.ExecuteScalarAsync<int>("select count(*) from jobproducts where jid = @Jid", new { config.Jid }));
    }

    [Fact]
    public async Task The_same_manifest_registered_twice_changes_nothing()
    {
        var (plan, config) = await PlanReferenceAsync(OpsWorld.ProcDate);
        await _w.WriteSuccessManifestAsync(config);
        await _w.Register.RegisterJobListAsync(plan.JobList!);
        const string snapshot = """
            select (select string_agg(concat_ws(',', rfid, version, vbest, filename, checksum), ';' order by rfid) from refimages)
                || '|' || (select string_agg(concat_ws(',', jid, status, exitcode, ended), ';' order by jid) from jobs)
                || '|' || (select count(*) from refimimages) || '|' || (select count(*) from jobproducts)
            """;
        var before = await ScalarAsync<string>(snapshot);

        var again = await _w.Register.RegisterManifestAsync(_w.Keys.Manifest(OpsWorld.ProcDate, config.Jid));

        Assert.Equal((0, 1), (again.Registered, again.Unchanged));
        Assert.Equal(before, await ScalarAsync<string>(snapshot));
    }

    [Fact]
    public async Task Reprocessing_on_another_date_makes_a_new_best_version_and_a_rerun_on_the_same_date_does_not()
    {
        var (plan1, c1) = await PlanReferenceAsync(OpsWorld.ProcDate);
        await _w.WriteSuccessManifestAsync(c1);
        await _w.Register.RegisterJobListAsync(plan1.JobList!);
        // A re-run of the same job on the same date updates the same row.
        await _w.Register.RegisterJobListAsync(plan1.JobList!);
        Assert.Equal(1, await ScalarAsync<int>("select count(*) from refimages"));

        // Reprocess on the next day (the reference is planned again only when none is best: unlock by hand here).
        await using (var conn = await _w.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("update refimages set status = 0");
        var (plan2, c2) = await PlanReferenceAsync(NextDay);
        Assert.NotEqual(c1.Jid, c2.Jid);
        await _w.WriteSuccessManifestAsync(c2);
        await _w.Register.RegisterJobListAsync(plan2.JobList!);

        var rows = (await QueryAsync<(int Version, short Vbest, long Jid)>("select version, vbest, jid from refimages order by version")).ToList();
        Assert.Equal([(1, (short)0, c1.Jid), (2, (short)1, c2.Jid)], rows);
    }

    [Fact]
    public async Task A_locked_best_is_never_displaced_by_a_later_version()
    {
        var (plan1, c1) = await PlanReferenceAsync(OpsWorld.ProcDate);
        await _w.WriteSuccessManifestAsync(c1);
        await _w.Register.RegisterJobListAsync(plan1.JobList!);
        var rfid1 = await ScalarAsync<long>("select rfid from refimages");
        await _w.Versions.LockAsync(VersionedProduct.ReferenceImage, rfid1);

        // Force a second reference job for the same (field, fid) on another date.
        await using (var conn = await _w.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("update refimages set status = 0");
        var (plan2, c2) = await PlanReferenceAsync(NextDay);
        await using (var conn = await _w.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("update refimages set status = 1");
        await _w.WriteSuccessManifestAsync(c2);
        await _w.Register.RegisterJobListAsync(plan2.JobList!);
        // Registering the locked row's own manifest again must not reset the lock either.
        await _w.Register.RegisterJobListAsync(plan1.JobList!);

        Assert.Equal((1, 2), await _w.Versions.GetAsync(VersionedProduct.ReferenceImage, rfid1));
        var rfid2 = await ScalarAsync<long>("select rfid from refimages where jid = @Jid", new { c2.Jid });
        Assert.Equal((2, 0), await _w.Versions.GetAsync(VersionedProduct.ReferenceImage, rfid2));

        await _w.Versions.UnlockAsync(VersionedProduct.ReferenceImage, rfid1);
        Assert.Equal((1, 1), await _w.Versions.GetAsync(VersionedProduct.ReferenceImage, rfid1));
        await _w.Versions.LockAsync(VersionedProduct.ReferenceImage, rfid2);
        Assert.Equal((1, 0), await _w.Versions.GetAsync(VersionedProduct.ReferenceImage, rfid1));
        Assert.Equal((2, 2), await _w.Versions.GetAsync(VersionedProduct.ReferenceImage, rfid2));
    }

    [Fact]
    public async Task A_job_without_a_manifest_is_closed_out_as_lost_with_the_callers_reason()
    {
        var (plan, config) = await PlanReferenceAsync(OpsWorld.ProcDate);

        var report = await _w.Register.RegisterJobListAsync(plan.JobList!, new Dictionary<long, string> { [config.Jid] = "killed by signal 9" });

        Assert.Equal((0, 1), (report.Registered, report.Lost));
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var job = await conn.QuerySingleAsync<(short Status, int ExitCode, string Reason)>("select status, exitcode, reason from jobs where jid = @Jid", new { config.Jid });
        Assert.Equal((1, ExitCodes.Lost), (job.Status, job.ExitCode));
        Assert.Contains("no manifest", job.Reason);
        Assert.Contains("killed by signal 9", job.Reason);
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from refimages"));
    }

    [Fact]
    public async Task A_corrupt_manifest_closes_the_job_as_rejected_naming_the_problem()
    {
        var (plan, config) = await PlanReferenceAsync(OpsWorld.ProcDate);
        await _w.Store.PutBytesAsync(_w.Keys.Manifest(OpsWorld.ProcDate, config.Jid), "{ not json"u8.ToArray());
        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);
        Assert.Equal((0, 1), (report.Lost, report.Rejected));
        Assert.StartsWith($"{ExitCodes.InvalidManifest} manifest unreadable",
            await ScalarAsync<string>("select exitcode || ' ' || reason from jobs where jid = @Jid", new { config.Jid }));
    }

    [Fact]
    public async Task A_failed_job_is_closed_with_its_exit_code_and_registers_no_products()
    {
        var (plan, config) = await PlanReferenceAsync(OpsWorld.ProcDate);
        var m = await _w.WriteSuccessManifestAsync(config);
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid),
            m with { ExitCode = ExitCodes.InvalidInput, Reason = "input FITS corrupt", Products = [], Outcome = null });
        await _w.Register.RegisterJobListAsync(plan.JobList!);
        Assert.Equal("65 input FITS corrupt", await ScalarAsync<string>("select exitcode || ' ' || reason from jobs where jid = @Jid", new { config.Jid }));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from refimages"));
    }

    [Fact]
    public async Task A_manifest_that_contradicts_its_job_closes_it_as_rejected_and_registers_nothing()
    {
        var (plan, config) = await PlanReferenceAsync(OpsWorld.ProcDate);
        var m = await _w.WriteSuccessManifestAsync(config);
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid), m with { Outcome = new ReferenceImageOutcome { Reference = ((ReferenceImageOutcome)m.Outcome!).Reference with { Fid = 7 } } });
        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);
        var failure = Assert.Single(report.Failures);
        Assert.Contains("fid 7", failure.Message);
        Assert.Equal(1, report.Rejected);
        Assert.Equal($"1 {ExitCodes.InvalidManifest}", await ScalarAsync<string>("select status || ' ' || exitcode from jobs where jid = @Jid", new { config.Jid }));
        Assert.Contains("fid 7", await ScalarAsync<string>("select reason from jobs where jid = @Jid", new { config.Jid }));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from refimages"));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from jobproducts"));

        var unknown = await _w.Register.RegisterAsync([(999999, _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid))]);
        Assert.Contains("not 999999", Assert.Single(unknown.Failures).Message);
    }

    [Fact]
    public async Task Reconciles_every_open_job_of_a_date_from_the_standard_manifest_keys()
    {
        var (_, config) = await PlanReferenceAsync(OpsWorld.ProcDate);
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(330, 20));
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg);
        var science = await _w.ConfigsAsync(await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate));
        await _w.WriteSuccessManifestAsync(config);

        var refs = await _w.Register.RegisterOpenJobsAsync(OpsWorld.ProcDate, ppid: 12);
        Assert.Equal((1, 0), (refs.Registered, refs.Lost));
        var rest = await _w.Register.RegisterOpenJobsAsync(OpsWorld.ProcDate);
        Assert.Equal((0, science.Count), (rest.Registered, rest.Lost));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from jobs where status = 0"));
    }

    [Fact]
    public async Task A_job_list_that_does_not_exist_is_one_line_naming_it()
    {
        var missing = _w.Keys.JobList(OpsWorld.ProcDate, 15, "nope");
        var e = await Assert.ThrowsAsync<ObjectNotFoundException>(() => _w.Register.RegisterJobListAsync(missing));
        Assert.Contains("nope", e.Message);
    }

    [Fact]
    public async Task Concurrent_registrations_of_the_same_natural_key_get_distinct_versions_and_one_best()
    {
        var (plan1, c1) = await PlanReferenceAsync(OpsWorld.ProcDate);
        var (plan2, c2) = await PlanReferenceAsync(NextDay);
        await _w.WriteSuccessManifestAsync(c1);
        await _w.WriteSuccessManifestAsync(c2);

        await Task.WhenAll(
            Task.Run(() => _w.Register.RegisterJobListAsync(plan1.JobList!)),
            Task.Run(() => _w.Register.RegisterJobListAsync(plan2.JobList!)),
            Task.Run(() => _w.Register.RegisterJobListAsync(plan1.JobList!)));

        var rows = (await QueryAsync<(int Version, short Vbest)>("select version, vbest from refimages order by version")).ToList();
        Assert.Equal([1, 2], rows.Select(r => r.Version));
        Assert.Equal(1, rows.Count(r => r.Vbest == 1));
        Assert.Equal(1, rows.Last().Vbest); // whichever registered second is version 2 and best
    }

    [Fact]
    public async Task Registers_a_difference_image_against_the_reference_and_sums_sources()
    {
        var (plan, config) = await PlanReferenceAsync(OpsWorld.ProcDate);
        await _w.WriteSuccessManifestAsync(config);
        await _w.Register.RegisterJobListAsync(plan.JobList!);
        var sciencePlan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var sci = Assert.Single(await _w.ConfigsAsync(sciencePlan));
        await _w.WriteSuccessManifestAsync(sci, nsources: 11);

        var report = await _w.Register.RegisterJobListAsync(sciencePlan.JobList!);

        Assert.Equal(1, report.DifferenceImages);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var d = await conn.QuerySingleAsync<(long Rid, long Rfid, int Version, short Vbest, long Hp9)>(
            "select rid, rfid, version, vbest, hp9 from diffimages where jid = @Jid", new { sci.Jid });
        Assert.Equal((sci.SpecAs<ScienceSpec>().Science.Rid, sci.SpecAs<ScienceSpec>().Reference.Rfid!.Value, 1, (short)1), (d.Rid, d.Rfid, d.Version, d.Vbest));
        Assert.Equal(Healpix.AngToPixNested(512, _ra, _dec), d.Hp9);
        Assert.Equal(11, await conn.ExecuteScalarAsync<int>("select nsources from diffimmeta"));
    }

    [Theory]
    [InlineData("procdate", "belongs at s3://rapid-product-files/20280908/", 0)]
    [InlineData("rid", "difference image is of rid", ExitCodes.InvalidManifest)]
    public async Task A_science_manifest_that_contradicts_its_job_is_reported_and_registers_nothing(string wrong, string message, int exitCode)
    {
        var (plan, config) = await PlanReferenceAsync(OpsWorld.ProcDate);
        await _w.WriteSuccessManifestAsync(config);
        await _w.Register.RegisterJobListAsync(plan.JobList!);
        var sciencePlan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var sci = Assert.Single(await _w.ConfigsAsync(sciencePlan));
        var m = await _w.WriteSuccessManifestAsync(sci);
        var bad = wrong == "procdate" ? m with { ProcDate = NextDay.ToString() }
            : m with { Outcome = (ScienceOutcome)m.Outcome! with { Difference = ((ScienceOutcome)m.Outcome!).Difference with { Rid = _earlier[0].Rid } } };
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, sci.Jid), bad);

        var report = await _w.Register.RegisterJobListAsync(sciencePlan.JobList!);

        // A manifest at another job's key is not this job's: the job is not touched. One that contradicts its job closes it as rejected.
        Assert.Contains(message, Assert.Single(report.Failures).Message);
        Assert.Equal(exitCode, await ScalarAsync<int?>("select exitcode from jobs where jid = @Jid", new { sci.Jid }) ?? 0);
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from diffimages"));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from jobproducts where jid = @Jid", new { sci.Jid }));
    }

    private async Task<IEnumerable<T>> QueryAsync<T>(string sql)
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return await conn.QueryAsync<T>(sql);
    }
}
