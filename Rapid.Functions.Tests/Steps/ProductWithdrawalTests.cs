using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

/// <summary>
/// A job's products are those of its last run: a forced re-run that ends without products (failed, lost, rejected)
/// withdraws what the earlier run registered (status 0, not best), the previous valid version of the image becomes best
/// again, the summary counts only valid products and shows the withdrawn ones, and a later successful run restores them.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class ProductWithdrawalTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private static readonly ProcessingDate NextDay = ProcessingDate.Parse("20280908");
    private OpsWorld _w = null!;

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(60, -30));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 3);
        for (var sca = 1; sca <= 3; sca++) await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: sca);
        var refPlan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        await _w.WriteSuccessManifestAsync(Assert.Single(await _w.ConfigsAsync(refPlan)));
        await _w.Register.RegisterJobListAsync(refPlan.JobList!);
    }

    public async Task DisposeAsync() => await _w.DisposeAsync();

    /// <summary>The science jobs of <paramref name="procDate"/> planned, run successfully and registered (with recovery figures), post-processed.</summary>
    private async Task<IReadOnlyList<JobConfig>> ScienceNightAsync(ProcessingDate procDate)
    {
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, procDate);
        var configs = await _w.ConfigsAsync(plan);
        foreach (var c in configs) await WriteWithRecoveryAsync(c);
        Assert.Empty((await _w.Register.RegisterJobListAsync(plan.JobList!)).Failures);
        var post = await _w.PlanPostProc.PlanAsync(procDate);
        foreach (var c in await _w.ConfigsAsync(post)) await _w.WriteSuccessManifestAsync(c);
        Assert.Empty((await _w.Register.RegisterJobListAsync(post.JobList!)).Failures);
        return configs;
    }

    private async Task WriteWithRecoveryAsync(JobConfig c)
    {
        var m = await _w.WriteSuccessManifestAsync(c);
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(ProcessingDate.Parse(c.ProcDate), c.Jid), m with
        {
            Products = [.. m.Products, _w.Product(ProcessingDate.Parse(c.ProcDate), c.Jid, ProductRoles.InjectionRecovery, "injrecov.fits")],
            Outcome = (ScienceOutcome)m.Outcome! with
            {
                InjectionRecovery = new InjectionRecoveryResult
                {
                    Seed = 1, PsfSource = "model", MatchRadiusPixels = 1, AreaDeg2 = 0.01, Fakes = new RecoveryFigures { Injected = 10, Found = 6 },
                },
            },
        });
    }

    /// <summary>A forced re-run of the science jobs of <paramref name="procDate"/>: the plan (the jobs reopened).</summary>
    private async Task<PlanResult> ForcedRerunAsync(ProcessingDate procDate)
    {
        _w.Options = _w.Options with { Force = true };
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, procDate);
        _w.Options = _w.Options with { Force = false };
        return plan;
    }

    private async Task<List<(long Jid, int Version, int Vbest, int Status)>> DiffImagesAsync()
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<(long, int, int, int)>("select jid, version, vbest::int, status::int from diffimages order by jid")).ToList();
    }

    private async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    [Fact]
    public async Task A_failed_forced_rerun_withdraws_the_jobs_products_and_the_summary_counts_only_valid_ones()
    {
        var jobs = await ScienceNightAsync(OpsWorld.ProcDate);
        var failing = jobs[0];
        var rerun = await ForcedRerunAsync(OpsWorld.ProcDate);
        foreach (var c in await _w.ConfigsAsync(rerun))
        {
            if (c.Jid == failing.Jid)
                await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, c.Jid), await _w.RunManifestAsync(c, ExitCodes.InvalidInput, "input s3://x/sci.fits: truncated"));
            else
                await WriteWithRecoveryAsync(c);
        }

        var report = await _w.Register.RegisterJobListAsync(rerun.JobList!);

        Assert.Empty(report.Failures);
        Assert.Contains((failing.Jid, 1, 0, 0), await DiffImagesAsync());
        Assert.Equal(2, (await DiffImagesAsync()).Count(d => d is { Vbest: 1, Status: 1 }));
        Assert.Equal(0, await ScalarAsync<int>("select count(*) from recoveryjobs where jid = @Jid", new { failing.Jid }));
        var summary = await _w.Summarize.SummarizeAsync(OpsWorld.ProcDate);
        Assert.Equal((2, 1), (summary.DifferenceImages, summary.WithdrawnProducts));
        Assert.Contains(summary.Failures, f => f.Jid == failing.Jid && f.ExitCode == ExitCodes.InvalidInput);
        // Withdrawn products are not stamped again, and the night's recovery merges only the valid jobs' tables.
        Assert.DoesNotContain(await _w.ConfigsAsync(await _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate)),
            c => c.SpecAs<PostProcessingSpec>().SourceJid == failing.Jid);
        Assert.Equal(2, Assert.Single(await _w.ConfigsAsync(await _w.PlanNight.PlanAsync(OpsWorld.ProcDate))).SpecAs<NightRecoverySpec>().Tables.Count);
    }

    [Fact]
    public async Task The_previous_version_is_best_again_while_the_failed_one_is_withdrawn_and_a_successful_rerun_restores_it()
    {
        await ScienceNightAsync(OpsWorld.ProcDate);
        var job = (await ScienceNightAsync(NextDay))[0];
        var rid = job.SpecAs<ScienceSpec>().Science.Rid;
        Task<string> VersionsAsync() => ScalarAsync<string>(
            "select string_agg(version || ':' || vbest || ':' || status, ' ' order by version) from diffimages where rid = @rid", new { rid });
        Assert.Equal("1:0:1 2:1:1", await VersionsAsync());

        // A forced re-run of the second date whose jobs are killed: no manifest of this run (only the earlier run's at the
        // key), so they are lost, their versions withdrawn and version 1 best again.
        var rerun = await ForcedRerunAsync(NextDay);
        var lost = await _w.Register.RegisterJobListAsync(rerun.JobList!, new Dictionary<long, string> { [job.Jid] = "killed by signal 9" });
        Assert.Equal((0, 3), (lost.Registered, lost.Lost));
        Assert.Equal("1:1:1 2:0:0", await VersionsAsync());

        // Run again, successfully: the same version 2 is registered again and is best again.
        var again = await ForcedRerunAsync(NextDay);
        await WriteWithRecoveryAsync(Assert.Single(await _w.ConfigsAsync(again), c => c.Jid == job.Jid));
        Assert.Empty((await _w.Register.RegisterAsync([(job.Jid, _w.Keys.Manifest(NextDay, job.Jid))])).Failures);
        Assert.Equal("1:0:1 2:1:1", await VersionsAsync());
    }

    [Fact]
    public async Task A_locked_version_stays_best_when_a_later_one_is_withdrawn()
    {
        await ScienceNightAsync(OpsWorld.ProcDate);
        var pid1 = await ScalarAsync<long>("select min(pid) from diffimages");
        await _w.Versions.LockAsync(VersionedProduct.DifferenceImage, pid1);
        var second = await ScienceNightAsync(NextDay);
        var rerun = await ForcedRerunAsync(NextDay);
        var job = Assert.Single(await _w.ConfigsAsync(rerun), c => c.Jid == second[0].Jid);
        var rid = job.SpecAs<ScienceSpec>().Science.Rid;
        Assert.Equal(rid, await ScalarAsync<long>("select rid from diffimages where pid = @pid1", new { pid1 }));
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(NextDay, job.Jid), await _w.RunManifestAsync(job, ExitCodes.Error, "boom"));

        await _w.Register.RegisterAsync([(job.Jid, _w.Keys.Manifest(NextDay, job.Jid))]);

        Assert.Equal((1, 2), await _w.Versions.GetAsync(VersionedProduct.DifferenceImage, pid1));
        Assert.Equal("2:0:0", await ScalarAsync<string>("select version || ':' || vbest || ':' || status from diffimages where jid = @Jid", new { job.Jid }));
    }
}
