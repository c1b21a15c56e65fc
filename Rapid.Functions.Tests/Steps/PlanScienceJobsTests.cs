using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

[Collection(OpsDatabaseCollection.Name)]
public sealed class PlanScienceJobsTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    /// <summary>Plans and registers the reference of the tile at (ra, dec); returns its rfid.</summary>
    private async Task<long> RegisteredReferenceAsync(double ra, double dec)
    {
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        foreach (var c in await _w.ConfigsAsync(plan)) await _w.WriteSuccessManifestAsync(c);
        await _w.Register.RegisterJobListAsync(plan.JobList!);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("select rfid from refimages where field = @f and vbest = 1",
            new { f = SkyTessellation.Roman.FieldOf(ra, dec) });
    }

    [Fact]
    public async Task Gives_each_image_the_registered_reference_with_its_coverage_and_uncertainty()
    {
        var (ra, dec) = OpsWorld.TileCentre(150, 2);
        await _w.EarlierImagesAsync(ra, dec, 3);
        var sci = await _w.TonightImageAsync(ra, dec, sca: 4);
        var rfid = await RegisteredReferenceAsync(ra, dec);

        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);

        var config = Assert.Single(await _w.ConfigsAsync(plan));
        Assert.Equal(15, config.Ppid);
        Assert.Equal(sci.Rid, config.SpecAs<ScienceSpec>().Science.Rid);
        Assert.Equal(4, config.SpecAs<ScienceSpec>().Science.Sca);
        Assert.True(config.SpecAs<ScienceSpec>().Reference.IsRegistered);
        Assert.Equal(rfid, config.SpecAs<ScienceSpec>().Reference.Rfid);
        Assert.EndsWith("refimage_cov.fits", config.SpecAs<ScienceSpec>().Reference.Coverage!.Key);
        Assert.EndsWith("refimage_uncert.fits", config.SpecAs<ScienceSpec>().Reference.Uncertainty!.Key);
        Assert.Empty(config.SpecAs<ScienceSpec>().Reference.Inputs);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(rfid, await conn.ExecuteScalarAsync<long>("select rfid from jobs where jid = @Jid", new { config.Jid }));
    }

    [Fact]
    public async Task Every_config_records_the_night_s_settings_profile_and_their_hash()
    {
        var (ra, dec) = OpsWorld.TileCentre(80, 10);
        await _w.EarlierImagesAsync(ra, dec, 3);
        await _w.TonightImageAsync(ra, dec);
        var settings = new PipelineSettings { DetectionThresholdSigma = 4.5, SaturationMaskRadius = 5 };
        _w.Options = _w.Options with { Pipeline = settings, SettingsProfile = "deep-h158" };

        var config = Assert.Single(await _w.ConfigsAsync(await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate)));

        Assert.Equal(settings, config.Settings);
        Assert.Equal("deep-h158", config.SettingsProfile);
        Assert.Equal(settings.Hash(), config.SettingsHash);
    }

    [Fact]
    public async Task Without_a_reference_the_job_gets_the_inputs_to_co_add_or_none()
    {
        var (ra, dec) = OpsWorld.TileCentre(30, -20);
        var earlier = await _w.EarlierImagesAsync(ra, dec, 4);
        var (ra2, dec2) = OpsWorld.TileCentre(60, 40);
        await _w.TonightImageAsync(ra, dec);
        await _w.TonightImageAsync(ra2, dec2); // nothing earlier there: the job will end 33

        var configs = await _w.ConfigsAsync(await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate));

        Assert.Equal(2, configs.Count);
        var withInputs = configs.Single(c => c.SpecAs<ScienceSpec>().Science.Field == SkyTessellation.Roman.FieldOf(ra, dec));
        Assert.False(withInputs.SpecAs<ScienceSpec>().Reference.IsRegistered);
        Assert.Equal(earlier.Select(e => e.Rid).Order(), withInputs.SpecAs<ScienceSpec>().Reference.Inputs.Select(i => i.Rid).Order());
        Assert.Empty(configs.Single(c => c != withInputs).SpecAs<ScienceSpec>().Reference.Inputs);
    }

    [Fact]
    public async Task A_rerun_on_the_same_date_never_duplicates_jobs_and_skips_registered_ones_unless_forced()
    {
        var (ra, dec) = OpsWorld.TileCentre(10, 10);
        await _w.EarlierImagesAsync(ra, dec, 3);
        await _w.TonightImageAsync(ra, dec, sca: 1);
        await _w.TonightImageAsync(ra, dec, sca: 2);
        await RegisteredReferenceAsync(ra, dec);

        var first = await _w.ConfigsAsync(await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate));
        var again = await _w.ConfigsAsync(await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate));
        Assert.Equal(first.Select(c => c.Jid).Order(), again.Select(c => c.Jid).Order());

        await _w.WriteSuccessManifestAsync(first[0]);
        await _w.Register.RegisterAsync([(first[0].Jid, _w.Keys.Manifest(OpsWorld.ProcDate, first[0].Jid))]);
        var rest = await _w.ConfigsAsync(await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate));
        Assert.Equal(first[1].Jid, Assert.Single(rest).Jid);

        _w.Options = _w.Options with { Force = true };
        Assert.Equal(2, (await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate)).ArraySize);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("select count(*) from jobs where ppid = 15"));
    }

    [Fact]
    public async Task An_empty_window_plans_nothing_and_writes_no_job_list()
    {
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        Assert.Equal(0, plan.ArraySize);
        Assert.Null(plan.JobList);
        Assert.False(Directory.Exists(Path.Combine(_w.StoreRoot, _w.Keys.Buckets.Pipeline)));
    }

    [Fact]
    public async Task Images_outside_the_window_or_not_best_are_not_planned()
    {
        var (ra, dec) = OpsWorld.TileCentre(100, 0);
        var tonight = await _w.TonightImageAsync(ra, dec);
        await _w.EarlierImagesAsync(ra, dec, 2);
        await using (var conn = await _w.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("update l2files set status = 0 where rid = @Rid", new { tonight.Rid });
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        Assert.Equal(0, plan.ArraySize);
        var other = new ObservationWindow(OpsWorld.Window.Start.AddDays(-30), OpsWorld.Window.Start);
        Assert.Equal(2, (await _w.PlanScience.PlanAsync(other, OpsWorld.ProcDate)).ArraySize);
    }
}
