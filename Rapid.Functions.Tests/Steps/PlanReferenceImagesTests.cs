using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

[Collection(OpsDatabaseCollection.Name)]
public sealed class PlanReferenceImagesTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    public async Task Plans_one_job_per_field_and_filter_with_enough_earlier_images_nearest_first()
    {
        var (ra, dec) = OpsWorld.TileCentre(150, 2);
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
        var (ra, dec) = OpsWorld.TileCentre(20, -30);
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
        var (ra, dec) = OpsWorld.TileCentre(300, 45);
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
        var (cra, cdec) = OpsWorld.TileCentre(ra, dec);
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
        var (ra, dec) = OpsWorld.TileCentre(80, 10);
        await _w.EarlierImagesAsync(ra, dec, 3);
        await _w.TonightImageAsync(ra, dec);
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        await _w.WriteSuccessManifestAsync(Assert.Single(await _w.ConfigsAsync(plan)));
        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);
        Assert.Equal(1, report.ReferenceImages);
        Assert.Equal(0, (await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate)).ArraySize);
    }

    /// <summary>A best reference of three images co-added and registered on the processing date; returns its rfid.</summary>
    private async Task<long> RegisteredReferenceAsync(double ra, double dec)
    {
        await _w.EarlierImagesAsync(ra, dec, 3, spreadDeg: 0.001);
        await _w.TonightImageAsync(ra, dec);
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        await _w.WriteSuccessManifestAsync(Assert.Single(await _w.ConfigsAsync(plan)));
        Assert.Equal(1, (await _w.Register.RegisterJobListAsync(plan.JobList!)).ReferenceImages);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("select rfid from refimages where vbest = 1");
    }

    private async Task<IReadOnlyList<JobConfig>> PlanAsync(ProcessingDate procDate) =>
        await _w.ConfigsAsync(await _w.PlanReferences.PlanAsync(OpsWorld.Window, procDate));

    [Fact]
    public async Task Forced_a_pair_with_a_best_reference_is_planned_again_and_its_new_version_becomes_best()
    {
        var (ra, dec) = OpsWorld.TileCentre(100, -20);
        var rfid = await RegisteredReferenceAsync(ra, dec);
        var nextDay = ProcessingDate.Parse("20280908");
        Assert.Empty(await PlanAsync(nextDay));

        _w.Options = _w.Options with { Force = true };
        var forced = Assert.Single(await PlanAsync(nextDay));
        await _w.WriteSuccessManifestAsync(forced);
        await _w.Register.RegisterAsync([(forced.Jid, _w.Keys.Manifest(nextDay, forced.Jid))]);

        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var rows = (await conn.QueryAsync<(long Rfid, int Version, int Vbest)>("select rfid, version, vbest::int from refimages order by version")).ToList();
        Assert.Equal((rfid, 1, 0), rows[0]);
        Assert.Equal((2, 1), (rows[1].Version, rows[1].Vbest));
        // Forced again on the same date: the same job is re-run, no third version.
        Assert.Equal(forced.Jid, Assert.Single(await PlanAsync(nextDay)).Jid);
    }

    [Fact]
    public async Task A_superior_reference_is_planned_when_at_least_n_more_frames_exist()
    {
        var (ra, dec) = OpsWorld.TileCentre(110, 25);
        await RegisteredReferenceAsync(ra, dec);
        await _w.EarlierImagesAsync(ra, dec, 2, spreadDeg: 0.002);
        _w.Options = _w.Options with { SuperiorReferences = true, SuperiorReferenceMinExtraFrames = 3, SuperiorReferenceMinCoverageGain = 100 };
        Assert.Empty(await PlanAsync(OpsWorld.ProcDate));   // 5 frames available, 3 co-added: not 3 more

        await _w.EarlierImagesAsync(ra, dec, 1, spreadDeg: 0.003);
        var superior = Assert.Single(await PlanAsync(OpsWorld.ProcDate));

        Assert.Equal(6, superior.SpecAs<ReferenceImageSpec>().Inputs.Count);
        _w.Options = _w.Options with { SuperiorReferences = false };
        Assert.Empty(await PlanAsync(OpsWorld.ProcDate));
    }

    [Fact]
    public async Task A_superior_reference_is_planned_when_the_inputs_would_cover_the_tile_better_and_not_for_more_of_the_same()
    {
        // A full-size tile (0.21 deg) and images of 0.125 deg: three centred images leave its corners uncovered (cov5 0).
        _w.Options = _w.Options with { TileNaxis1 = 7000, TileNaxis2 = 7000 };
        var (ra, dec) = OpsWorld.TileCentre(30, 0.5);
        await RegisteredReferenceAsync(ra, dec);
        _w.Options = _w.Options with { SuperiorReferences = true, SuperiorReferenceMinExtraFrames = 100, SuperiorReferenceMinCoverageGain = 1 };

        // Four more centred images: more frames, the same 5th-percentile coverage.
        await _w.Ingest.RegisterAsync([.. Enumerable.Range(0, 4).Select(i => _w.Image(ra, dec, OpsWorld.Night.AddDays(-20 - i), sca: 5 + i))]);
        Assert.Empty(await PlanAsync(OpsWorld.ProcDate));

        // One image in each quadrant: every part of the tile covered.
        (double Dx, double Dy)[] quadrants = [(-0.06, -0.06), (0.06, -0.06), (0.06, 0.06), (-0.06, 0.06)];
        await _w.Ingest.RegisterAsync([.. quadrants.Select((q, i) => _w.Image(ra + q.Dx, dec + q.Dy, OpsWorld.Night.AddDays(-30 - i), sca: 10 + i))]);
        var superior = Assert.Single(await PlanAsync(OpsWorld.ProcDate));
        Assert.Equal(11, superior.SpecAs<ReferenceImageSpec>().Inputs.Count);
    }

    [Fact]
    public async Task Reference_inputs_are_taken_from_the_mjd_range_given()
    {
        var (ra, dec) = OpsWorld.TileCentre(210, 40);
        var earlier = await _w.EarlierImagesAsync(ra, dec, 6);   // one a day, 10 to 15 days before the night
        await _w.TonightImageAsync(ra, dec);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var mjds = (await conn.QueryAsync<(long Rid, double MjdObs)>("select rid, mjdobs from l2files where rid = any(@rids)",
            new { rids = earlier.Select(e => e.Rid).ToArray() })).OrderBy(r => r.MjdObs).ToList();
        _w.Options = _w.Options with { ReferenceInputsMjd = (mjds[1].MjdObs, mjds[4].MjdObs) };

        var config = Assert.Single(await PlanAsync(OpsWorld.ProcDate));

        Assert.Equal(mjds.Skip(1).Take(3).Select(m => m.Rid).Order(), config.SpecAs<ReferenceImageSpec>().Inputs.Select(i => i.Rid).Order());
    }
}
