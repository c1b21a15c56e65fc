using System.Security.Cryptography;
using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Contracts.Schema2;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Sky;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

/// <summary>
/// What registration keeps of a manifest's common envelope (typed warnings, resources, software, host, the manifest's
/// identity), a manifest of the previous schema registered through its adapter, and the night's recovery job planned as
/// a stage of its own.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class ManifestEnvelopeRegistrationTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(40, 10));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 3);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: 2);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: 3);
    }

    public async Task DisposeAsync() => await _w.DisposeAsync();

    private async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    [Fact]
    public async Task Warnings_keep_their_kind_and_the_summary_counts_jobs_per_kind()
    {
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var configs = await _w.ConfigsAsync(plan);
        JobWarning[] warnings =
        [
            new(JobWarningKind.FluxScale, "flux matching: only 2 star(s) matched"),
            new(JobWarningKind.Psf, "psf: the reference PSF is a fallback"),
        ];
        foreach (var c in configs)
        {
            var m = await _w.WriteSuccessManifestAsync(c, exitCode: ExitCodes.Degraded);
            await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, c.Jid), m with { Warnings = c == configs[0] ? warnings : [warnings[0]] });
        }

        Assert.Empty((await _w.Register.RegisterJobListAsync(plan.JobList!)).Failures);

        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var rows = (await conn.QueryAsync<(short Seq, string Kind, string Message)>(
            "select seq, kind, message from jobwarnings where jid = @Jid order by seq", new { configs[0].Jid })).ToList();
        Assert.Equal([((short)0, "flux_scale", warnings[0].Message), ((short)1, "psf", warnings[1].Message)], rows);
        var summary = await _w.Summarize.SummarizeAsync(OpsWorld.ProcDate);
        Assert.Equal([new Rapid.Functions.Steps.WarningCount(15, "flux_scale", 2), new Rapid.Functions.Steps.WarningCount(15, "psf", 1)], summary.Warnings);
        // The failures list still shows a degraded job with its warnings as the reason.
        Assert.Contains(summary.Failures, f => f.Jid == configs[0].Jid && f.Reason == $"{warnings[0].Message}; {warnings[1].Message}");
    }

    [Fact]
    public async Task The_job_row_keeps_the_envelope_and_the_identity_of_the_manifest_it_was_closed_with()
    {
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var config = (await _w.ConfigsAsync(plan))[0];
        var m = await _w.WriteSuccessManifestAsync(config);
        m = m with
        {
            Resources = new JobResources { WallSeconds = 42, CpuSeconds = 71.5, PeakMemoryBytes = 2_500_000_000 },
            Host = new HostInfo { Name = "ip-10-1-2-3", ProcessorCount = 4 },
            Software = SoftwareInfo.Parse("1.2.3+0123456789abcdef0123456789abcdef01234567"),
        };
        var key = _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid);
        await Contract.WriteAsync(_w.Store, key, m);

        await _w.Register.RegisterJobListAsync(plan.JobList!);

        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var row = await conn.QuerySingleAsync<(double Cpu, long Peak, string Software, string Host, string Sha)>(
            "select cpu_seconds, peak_memory_bytes, software, host, manifest_sha256 from jobs where jid = @Jid", new { config.Jid });
        Assert.Equal((71.5, 2_500_000_000L, "1.2.3+0123456789abcdef0123456789abcdef01234567", "ip-10-1-2-3"), (row.Cpu, row.Peak, row.Software, row.Host));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await _w.Store.GetBytesAsync(key))), row.Sha);
    }

    [Fact]
    public async Task A_manifest_of_schema_2_written_by_the_previous_release_registers_through_its_adapter()
    {
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var config = (await _w.ConfigsAsync(plan))[0];
        var current = await _w.WriteSuccessManifestAsync(config, exitCode: ExitCodes.Degraded, nsources: 9);
        var science = (ScienceOutcome)current.Outcome!;
        // What the previous release's job wrote: optional sections, text warnings repeated as the reason, step seconds.
        var v2 = new ProductManifestV2
        {
            SchemaVersion = 2, Jid = current.Jid, Ppid = current.Ppid, ProcDate = current.ProcDate, ExitCode = ExitCodes.Degraded,
            Reason = "psf: the science PSF is a GaussianFromDefault fallback", Warnings = ["psf: the science PSF is a GaussianFromDefault fallback"],
            Started = current.Started, Ended = current.Ended, BatchJobId = "batch-v2:0", Attempt = 1, SoftwareVersion = "1.0.0+56fcf51d4e4671d15e204ddf7fbcecccad1b8dfe",
            ConfigSha256 = current.ConfigSha256, Products = current.Products, StepSeconds = new Dictionary<string, double> { ["zogy"] = 2.5 },
            DifferenceImage = science.Difference, ReferenceImage = science.CoaddedReference,
        };
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid), v2);

        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);

        Assert.Empty(report.Failures);
        Assert.Equal(1, report.DifferenceImages);
        Assert.Equal(9, await ScalarAsync<int>("select m.nsources from diffimmeta m join diffimages d on d.pid = m.pid where d.jid = @Jid", new { config.Jid }));
        Assert.Equal("psf", await ScalarAsync<string>("select kind from jobwarnings where jid = @Jid", new { config.Jid }));
        Assert.Equal("batch-v2:0", await ScalarAsync<string>("select batch_job_id from jobs where jid = @Jid", new { config.Jid }));
    }

    [Fact]
    public async Task The_night_recovery_job_is_planned_by_its_own_planner_after_post_processing_not_in_its_array()
    {
        var refPlan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        await _w.WriteSuccessManifestAsync(Assert.Single(await _w.ConfigsAsync(refPlan)));
        await _w.Register.RegisterJobListAsync(refPlan.JobList!);
        var sciPlan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        foreach (var c in await _w.ConfigsAsync(sciPlan))
        {
            var m = await _w.WriteSuccessManifestAsync(c);
            var recovery = new InjectionRecoveryResult
            {
                Seed = 1, PsfSource = "model", MatchRadiusPixels = 1, AreaDeg2 = 0.01, Fakes = new RecoveryFigures { Injected = 10, Found = 7 },
            };
            await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, c.Jid), m with
            {
                Products = [.. m.Products, _w.Product(OpsWorld.ProcDate, c.Jid, ProductRoles.InjectionRecovery, "injrecov.fits")],
                Outcome = (ScienceOutcome)m.Outcome! with { InjectionRecovery = recovery },
            });
        }
        await _w.Register.RegisterJobListAsync(sciPlan.JobList!);

        var postPlan = await _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate);
        var nightPlan = await _w.PlanNight.PlanAsync(OpsWorld.ProcDate);

        Assert.All(await _w.ConfigsAsync(postPlan), c => Assert.IsType<PostProcessingSpec>(c.Spec));
        Assert.Equal(3, postPlan.ArraySize);
        Assert.Equal((PipelineIds.NightRecovery, 1), (nightPlan.Ppid, nightPlan.ArraySize));
        Assert.Equal(2, Assert.IsType<NightRecoverySpec>(Assert.Single(await _w.ConfigsAsync(nightPlan)).Spec).Tables.Count);
    }
}
