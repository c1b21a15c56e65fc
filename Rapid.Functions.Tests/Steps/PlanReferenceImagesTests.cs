using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Sky;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

[Collection(OpsDatabaseCollection.Name)]
public sealed class PlanReferenceImagesTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    private static (double Ra, double Dec) TileCentre(double ra, double dec)
    {
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(ra, dec));
        return (t.CenterRaDeg, t.CenterDecDeg);
    }

    [Fact]
    public async Task Plans_one_job_per_field_and_filter_with_enough_earlier_images_nearest_first()
    {
        var (ra, dec) = TileCentre(150, 2);
        var earlier = await _w.EarlierImagesAsync(ra, dec, 5);
        await _w.EarlierImagesAsync(ra, dec, 4, filter: "J129", spreadDeg: 0.3); // too far from the tile centre
        await _w.TonightImageAsync(ra, dec);
        await _w.TonightImageAsync(ra, dec, sca: 2);
        await _w.TonightImageAsync(ra, dec, filter: "J129");

        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);

        Assert.Equal(1, plan.ArraySize);
        var config = Assert.Single(await _w.ConfigsAsync(plan));
        Assert.Equal(12, config.Ppid);
        Assert.Equal(SkyTessellation.Roman.FieldOf(ra, dec), config.SpecAs<ReferenceImageSpec>().Tile.Field);
        Assert.Equal(512, config.SpecAs<ReferenceImageSpec>().Tile.Naxis1);
        Assert.Equal(earlier.Select(e => e.Rid), config.SpecAs<ReferenceImageSpec>().Inputs.Select(i => i.Rid)); // spread grows with index
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var job = await conn.QuerySingleAsync<(short Status, string ConfigKey)>("select status, config_key from jobs where jid = @Jid", new { config.Jid });
        Assert.Equal(0, job.Status);
        Assert.EndsWith($"jid{config.Jid}/job_config_jid{config.Jid}.json", job.ConfigKey);
    }

    [Fact]
    public async Task Plans_nothing_for_a_pair_with_fewer_than_three_inputs_and_caps_inputs_at_the_maximum()
    {
        var (ra, dec) = TileCentre(20, -30);
        await _w.EarlierImagesAsync(ra, dec, 2);
        await _w.TonightImageAsync(ra, dec);
        var none = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        Assert.Equal(0, none.ArraySize);
        Assert.Null(none.JobList);

        _w.Options = _w.Options with { Pipeline = _w.Options.Pipeline with { MaxReferenceInputs = 3 } };
        await _w.EarlierImagesAsync(ra, dec, 3, spreadDeg: 0.002);
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        Assert.Equal(3, Assert.Single(await _w.ConfigsAsync(plan)).SpecAs<ReferenceImageSpec>().Inputs.Count);
    }

    [Fact]
    public async Task Re_planning_the_same_date_reuses_the_job_row()
    {
        var (ra, dec) = TileCentre(300, 45);
        await _w.EarlierImagesAsync(ra, dec, 3);
        await _w.TonightImageAsync(ra, dec);
        var a = Assert.Single(await _w.ConfigsAsync(await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate)));
        var b = Assert.Single(await _w.ConfigsAsync(await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate)));
        Assert.Equal(a.Jid, b.Jid);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from jobs"));
    }

    [Theory]
    [InlineData(0.02, 10.0)]     // the tile straddling RA 0/360
    [InlineData(359.98, -10.0)]
    [InlineData(45.0, 89.97)]    // the north cap
    [InlineData(200.0, -89.96)]  // the south cap
    public async Task Finds_inputs_across_ra_zero_and_at_the_poles(double ra, double dec)
    {
        var (cra, cdec) = TileCentre(ra, dec);
        // Inputs spread on both sides of RA 0 (or around the pole), all within 0.18 deg of the tile centre.
        var imgs = new[] { -0.05, 0.05, 0.1 }.Select((d, i) =>
            _w.Image(SphericalGeometry.NormalizeRaDeg(cra + d / Math.Max(Math.Cos(cdec * Math.PI / 180), 1)), Math.Clamp(cdec + (Math.Abs(cdec) > 89 ? 0 : d), -90, 90),
                OpsWorld.Night.AddDays(-5 - i), sca: i + 1)).ToList();
        await _w.Ingest.RegisterAsync(imgs);
        var far = _w.Image(SphericalGeometry.NormalizeRaDeg(cra + 180), -cdec, OpsWorld.Night.AddDays(-3), sca: 9);
        await _w.Ingest.RegisterAsync([far]);
        await _w.TonightImageAsync(cra, cdec);

        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var inputs = Assert.Single(await _w.ConfigsAsync(plan)).SpecAs<ReferenceImageSpec>().Inputs;
        Assert.Equal(3, inputs.Count);
        Assert.DoesNotContain(inputs, i => i.File == far.File);
        foreach (var i in inputs)
            Assert.Contains(imgs, x => x.File == i.File);
    }

    [Fact]
    public async Task Does_not_plan_a_pair_that_already_has_a_best_reference()
    {
        var (ra, dec) = TileCentre(80, 10);
        await _w.EarlierImagesAsync(ra, dec, 3);
        await _w.TonightImageAsync(ra, dec);
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        await _w.WriteSuccessManifestAsync(Assert.Single(await _w.ConfigsAsync(plan)));
        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);
        Assert.Equal(1, report.ReferenceImages);
        Assert.Equal(0, (await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate)).ArraySize);
    }
}
