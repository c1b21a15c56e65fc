using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Functions.Steps;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

/// <summary>
/// The planners take a submitted job (<see cref="SubmittedJob"/>) from the inputs <see cref="JobTypes"/> declares: a science
/// image alone (not the other SCAs of its exposure), a reference for its (field, filter) even when one exists, and what
/// the inputs name checked against the ops database, refused naming the input.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class SubmittedJobPlansTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    private async Task<SubmittedJob> SubmitAsync(JobType type, params (string Name, object Value)[] inputs)
    {
        var submission = type.Validate(inputs.ToDictionary(i => i.Name, i => (string?)Convert.ToString(i.Value, System.Globalization.CultureInfo.InvariantCulture)));
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return await SubmittedJob.ResolveAsync(conn, submission);
    }

    /// <summary>Two SCAs of one exposure (the same DATE-OBS to the second) on a tile with earlier images.</summary>
    private async Task<(long Rid1, long Rid2)> OneExposureTwoScasAsync(double ra, double dec)
    {
        await _w.EarlierImagesAsync(ra, dec, 3);
        var first = _w.Image(ra, dec, OpsWorld.Night, sca: 1);
        var second = first with { Sca = 2, File = _w.Keys.L2File($"sim/H158/{first.DateObs:yyyyMMddHHmmss}_sca02.fits"), Md5 = Guid.NewGuid().ToString("N") };
        var registered = await _w.Ingest.RegisterAsync([first, second]);
        return (registered[0].Rid, registered[1].Rid);
    }

    [Fact]
    public async Task A_submitted_science_image_is_planned_alone_and_the_other_sca_of_its_exposure_stays_pending()
    {
        var (ra, dec) = OpsWorld.TileCentre(150, 2);
        var (rid1, rid2) = await OneExposureTwoScasAsync(ra, dec);
        _w.Options = _w.Options with { Submission = await SubmitAsync(JobTypes.Science, ("rid", rid1)) };
        var tonight = new ObservationWindow(OpsWorld.Night, OpsWorld.Night.AddDays(1));

        var references = await _w.ConfigsAsync(await _w.PlanReferences.PlanAsync(tonight, OpsWorld.ProcDate));
        var science = await _w.ConfigsAsync(await _w.PlanScience.PlanAsync(tonight, OpsWorld.ProcDate));

        Assert.Equal(SkyTessellation.Roman.FieldOf(ra, dec), Assert.Single(references).SpecAs<ReferenceImageSpec>().Tile.Field);
        Assert.Equal(rid1, Assert.Single(science).SpecAs<ScienceSpec>().Science.Rid);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal([rid2], await conn.QueryAsync<long>("select rid from l2pending where rid = any(@rids)", new { rids = new[] { rid1, rid2 } }));
        Assert.Equal([rid1], await conn.QueryAsync<long>("select rid from jobs where ppid = 15"));

        // Without the submission, the window's plan takes both.
        _w.Options = _w.Options with { Submission = null };
        Assert.Equal(2, (await _w.ConfigsAsync(await _w.PlanScience.PlanAsync(tonight, OpsWorld.ProcDate))).Count);
    }

    [Fact]
    public async Task A_submitted_reference_is_planned_for_its_field_and_filter_only_even_when_it_has_a_best_reference()
    {
        var (ra, dec) = OpsWorld.TileCentre(80, 10);
        var field = SkyTessellation.Roman.FieldOf(ra, dec);
        await _w.EarlierImagesAsync(ra, dec, 3);
        await _w.TonightImageAsync(ra, dec);
        var (ra2, dec2) = OpsWorld.TileCentre(30, -20);
        await _w.EarlierImagesAsync(ra2, dec2, 3);
        await _w.TonightImageAsync(ra2, dec2);
        var night = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var nightConfigs = await _w.ConfigsAsync(night);
        Assert.Equal(2, nightConfigs.Count);
        foreach (var c in nightConfigs) await _w.WriteSuccessManifestAsync(c);
        await _w.Register.RegisterJobListAsync(night.JobList!);
        Assert.Null((await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate)).JobList); // each tile has its best reference

        var later = ProcessingDate.Parse("20280908");
        _w.Options = _w.Options with { Submission = await SubmitAsync(JobTypes.Reference, ("field", field), ("filter", "h158"), ("procdate", later)) };
        var plan = await _w.PlanReferences.PlanAsync(new ObservationWindow(OpsWorld.Window.End, OpsWorld.Window.End.AddSeconds(1)), later);

        var config = Assert.Single(await _w.ConfigsAsync(plan));
        var spec = config.SpecAs<ReferenceImageSpec>();
        Assert.Equal(field, spec.Tile.Field);
        Assert.Equal(4, spec.Inputs.Count); // the three earlier images and the night's, all observed before the procdate's window
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal((field, (short)2), await conn.QuerySingleAsync<(long, short)>("select field, fid from jobs where jid = @Jid", new { config.Jid }));
        // Science and post-processing plan nothing for a reference submission beyond its own run's jobs.
        Assert.Null((await _w.PlanScience.PlanAsync(OpsWorld.Window, later)).JobList);
    }

    [Theory]
    [InlineData("science", "rid", "rid=999999")]
    [InlineData("reference", "field", "field=123", "filter=H158")]
    [InlineData("reference", "filter", "field=FIELD", "filter=Q999")]
    public async Task A_submission_naming_what_the_ops_database_does_not_hold_is_refused_naming_the_input(string type, string input, params string[] inputs)
    {
        var (ra, dec) = OpsWorld.TileCentre(200, 30);
        await _w.TonightImageAsync(ra, dec);
        var field = SkyTessellation.Roman.FieldOf(ra, dec).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var given = inputs.Select(i => i.Split('=')).Select(p => (p[0], (object)p[1].Replace("FIELD", field, StringComparison.Ordinal))).ToArray();

        var e = await Assert.ThrowsAsync<JobInputException>(() => SubmitAsync(JobTypes.Named(type), given));

        Assert.Equal(input, e.Input);
    }

    [Fact]
    public async Task The_planners_plan_each_job_type_from_exactly_the_inputs_JobTypes_declares_for_it()
    {
        var (ra, dec) = OpsWorld.TileCentre(260, -40);
        var (rid, _) = await OneExposureTwoScasAsync(ra, dec);
        var field = SkyTessellation.Roman.FieldOf(ra, dec);
        var values = new Dictionary<string, object> { ["rid"] = rid, ["field"] = field, ["filter"] = "H158", ["procdate"] = OpsWorld.ProcDate };
        var window = new ObservationWindow(OpsWorld.Night, OpsWorld.Night.AddDays(1));

        foreach (var type in JobTypes.All.Where(t => t.Ppid is not null))
        {
            // An input the planners do not know fails here: JobTypes and the planners disagree.
            foreach (var input in type.Inputs) Assert.True(values.ContainsKey(input.Name), $"{type.Name}: no planner reads input '{input.Name}'");
            var job = await SubmitAsync(type, [.. type.Inputs.Select(i => (i.Name, values[i.Name]))]);
            _w.Options = _w.Options with { Submission = job };
            switch (type.Ppid)
            {
                case 12:
                    var reference = Assert.Single(await _w.ConfigsAsync(await _w.PlanReferences.PlanAsync(window, job.Submission.ProcDate()!.Value)));
                    Assert.Equal(field, reference.SpecAs<ReferenceImageSpec>().Tile.Field);
                    Assert.Equal(OpsWorld.ProcDate.ToString(), reference.ProcDate);
                    break;
                case 15:
                    var science = Assert.Single(await _w.ConfigsAsync(await _w.PlanScience.PlanAsync(window, job.Submission.ProcDate()!.Value)));
                    Assert.Equal(rid, science.SpecAs<ScienceSpec>().Science.Rid);
                    Assert.Equal(OpsWorld.ProcDate.ToString(), science.ProcDate);
                    break;
                default:
                    // Post-processing and night recovery plan a processing date: their planners take nothing else.
                    Assert.Equal([JobInputKind.ProcDate], type.Inputs.Select(i => i.Kind));
                    Assert.True(type.Inputs.Single().Required, $"{type.Name}: its planner needs the processing date");
                    break;
            }
        }
    }
}
