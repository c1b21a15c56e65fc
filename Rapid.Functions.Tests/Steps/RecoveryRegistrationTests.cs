using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Pipelines;
using Rapid.Core.Sky;
using Rapid.Functions.Steps;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

/// <summary>Injection-recovery through planning and registration: per-job figures, the night's job and its completeness rows.</summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class RecoveryRegistrationTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(150, 2));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 5);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg);
    }

    public async Task DisposeAsync() => await _w.DisposeAsync();

    private static readonly InjectionRecoveryResult Injection = new()
    {
        Seed = 12345, BrightMag = 22, FaintMag = 25.5, MagLimit = 24.5, PsfFwhmPixels = 1.4, PsfSource = "science", MatchRadiusPixels = 1,
        Fakes = new RecoveryFigures { Injected = 50, Found = 31, Mag50 = 24.6, Mag90 = 24.1, FluxBias = -0.01 },
        Transients = new RecoveryFigures { Injected = 3, Found = 2, FluxBias = double.NaN },
        PositiveDetections = 40, UnmatchedPositive = 4, AreaDeg2 = 0.0048,
    };

    private async Task<JobConfig> RegisterScienceWithRecoveryAsync()
    {
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var config = Assert.Single(await _w.ConfigsAsync(plan));
        var manifest = await _w.WriteSuccessManifestAsync(config);
        manifest = manifest with { Outcome = (ScienceOutcome)manifest.Outcome! with { InjectionRecovery = Injection } };
        manifest.Products = [.. manifest.Products, _w.Product(OpsWorld.ProcDate, config.Jid, ProductRoles.InjectionRecovery, "injrecov.fits")];
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid), manifest);
        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);
        Assert.Empty(report.Failures);
        return config;
    }

    private async Task<string> SnapshotAsync()
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<string>("""
            select coalesce((select string_agg(concat_ws(',', jid, pid, rid, fid, seed, npositive, nunmatched, filename, checksum, ended), ';' order by jid) from recoveryjobs), '')
              || '|' || coalesce((select string_agg(concat_ws(',', jid, kind, ninjected, nfound, mag50, mag90, fluxbias), ';' order by jid, kind) from recoveryfigures), '')
              || '|' || coalesce((select string_agg(concat_ws(',', procdate, jid, ntables, filename, ended), ';') from nightrecovery), '')
              || '|' || coalesce((select string_agg(concat_ws(',', fid, kind, nimages, ninjected, nfound, mag50, falseposdeg2), ';' order by fid, kind) from nightrecoveryfigures), '')
              || '|' || coalesce((select string_agg(concat_ws(',', fid, kind, maglow, ninjected, nfound), ';' order by fid, kind, maglow) from nightrecoverybins), '')
            """) ?? "";
    }

    [Fact]
    public async Task The_planner_gives_every_science_job_fake_sources_with_a_seed_of_its_own()
    {
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var config = Assert.Single(await _w.ConfigsAsync(plan));

        var fakes = Assert.IsType<FakeSourcesConfig>(config.SpecAs<ScienceSpec>().FakeSources);
        Assert.True(fakes.Enabled);
        Assert.Equal(PlanScienceJobs.JobSeed(new FakeSourcesConfig().Seed, config.SpecAs<ScienceSpec>().Science.Rid), fakes.Seed);
        Assert.NotEqual(PlanScienceJobs.JobSeed(1, config.SpecAs<ScienceSpec>().Science.Rid + 1), fakes.Seed);
        Assert.InRange(fakes.Seed, 0, int.MaxValue);
    }

    [Fact]
    public async Task Fake_sources_off_in_the_settings_means_none_in_the_config()
    {
        _w.Options = _w.Options with { FakeSources = null };
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        Assert.Null(Assert.Single(await _w.ConfigsAsync(plan)).SpecAs<ScienceSpec>().FakeSources);
    }

    [Fact]
    public async Task A_science_job_registers_its_recovery_figures_and_registering_twice_changes_nothing()
    {
        var config = await RegisterScienceWithRecoveryAsync();

        await using (var conn = await _w.DataSource.OpenConnectionAsync())
        {
            var row = await conn.QuerySingleAsync<(long Seed, int NPositive, int NUnmatched, string FileName)>(
                "select seed, npositive, nunmatched, filename from recoveryjobs where jid = @Jid", new { config.Jid });
            Assert.Equal((12345L, 40, 4), (row.Seed, row.NPositive, row.NUnmatched));
            Assert.EndsWith("injrecov.fits", row.FileName);
            var figures = (await conn.QueryAsync<(string Kind, int Injected, int Found)>(
                "select kind, ninjected, nfound from recoveryfigures where jid = @Jid order by kind", new { config.Jid })).ToList();
            Assert.Equal([("fake", 50, 31), ("transient", 3, 2)], figures);
        }
        var before = await SnapshotAsync();

        var again = await _w.Register.RegisterManifestAsync(_w.Keys.Manifest(OpsWorld.ProcDate, config.Jid));

        Assert.Equal((0, 1), (again.Registered, again.Unchanged));
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task A_rerun_without_injection_drops_the_figures_of_the_earlier_run()
    {
        var config = await RegisterScienceWithRecoveryAsync();
        await _w.WriteSuccessManifestAsync(config);   // the same job again, this time without fake sources

        Assert.Equal(1, (await _w.Register.RegisterManifestAsync(_w.Keys.Manifest(OpsWorld.ProcDate, config.Jid))).Registered);

        Assert.Equal("||||", await SnapshotAsync());
    }

    [Theory]
    [InlineData(null, 50)]
    [InlineData("200", 200)]
    [InlineData("0", 0)]
    public void The_plan_handlers_take_the_fake_source_count_from_their_environment(string? value, int expected)
    {
        var env = new Rapid.Functions.Lambda.LambdaEnvironment(name => name == Rapid.Functions.Lambda.LambdaEnvironment.FakeSourcesVariable ? value : null);
        var options = env.Planning(true);
        Assert.True(options.Force);
        Assert.Equal(expected, options.FakeSources?.Count ?? 0);
    }

    [Fact]
    public void A_fake_source_count_that_is_not_a_number_names_the_variable()
    {
        var env = new Rapid.Functions.Lambda.LambdaEnvironment(name => name == Rapid.Functions.Lambda.LambdaEnvironment.FakeSourcesVariable ? "many" : null);
        var e = Assert.Throws<InvalidOperationException>(() => env.Planning(false));
        Assert.Contains("RAPID_FAKE_SOURCES", e.Message);
    }

    [Fact]
    public async Task The_night_recovery_job_is_planned_with_the_tables_its_figures_registered_idempotently_and_summarised()
    {
        var science = await RegisterScienceWithRecoveryAsync();
        var plan = await _w.PlanNight.PlanAsync(OpsWorld.ProcDate);
        Assert.Equal(PipelineIds.NightRecovery, plan.Ppid);
        var night = Assert.Single(await _w.ConfigsAsync(plan));
        var table = Assert.Single(night.SpecAs<NightRecoverySpec>().Tables);
        Assert.Equal((science.Jid, science.SpecAs<ScienceSpec>().Science.Rid, "H158", 4), (table.Jid, table.Rid, table.Filter, table.UnmatchedPositive));

        var figures = new NightRecoveryFigures
        {
            Fid = table.Fid, Filter = "H158", Kind = "fake", Images = 1, Figures = Injection.Fakes, UnmatchedPositive = 4, AreaDeg2 = 0.0048,
            FalsePositivesPerDeg2 = 4 / 0.0048,
            Bins = [new CompletenessBinResult(24, 24.5, 20, 18, 0.9, -0.02), new CompletenessBinResult(24.5, 25, 30, 13, 13 / 30.0, 0.01)],
        };
        var manifest = await _w.RunManifestAsync(night, 0) with
        {
            Products = [_w.Product(OpsWorld.ProcDate, night.Jid, ProductRoles.NightRecovery, "rapid_injrecov_20280907.fits")],
            Outcome = new NightRecoveryOutcome { Tables = 1, Filters = [figures] },
        };
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, night.Jid), manifest);
        Assert.Empty((await _w.Register.RegisterJobListAsync(plan.JobList!)).Failures);
        var before = await SnapshotAsync();
        await _w.Register.RegisterManifestAsync(_w.Keys.Manifest(OpsWorld.ProcDate, night.Jid));
        Assert.Equal(before, await SnapshotAsync());

        var summary = await _w.Summarize.SummarizeAsync(OpsWorld.ProcDate);
        var recovery = Assert.Single(summary.Recovery);
        Assert.Equal(("H158", "fake", 50, 31, (double?)24.6), (recovery.Filter, recovery.Kind, recovery.Injected, recovery.Found, recovery.Mag50));
        Assert.Equal([(24.0, 20, 18), (24.5, 30, 13)], summary.RecoveryBins.Select(b => (b.MagLow, b.Injected, b.Found)));

        // Up to date: a re-plan does not redo the night's merge; forced, it does (in the same job row).
        Assert.Empty(await _w.ConfigsAsync(await _w.PlanNight.PlanAsync(OpsWorld.ProcDate)));
        _w.Options = _w.Options with { Force = true };
        var forced = Assert.Single(await _w.ConfigsAsync(await _w.PlanNight.PlanAsync(OpsWorld.ProcDate)));
        Assert.Equal(night.Jid, forced.Jid);
    }
}
