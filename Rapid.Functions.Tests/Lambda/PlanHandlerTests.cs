using System.Globalization;
using System.Text.Json;
using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Functions.Lambda;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>
/// What the plan handlers take from the night besides its window: the reference selection of the execution input, and the
/// submitted job ResolveWindow checked (<c>$.night.submission</c>), which restricts their plans as it does the embedded engine's.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class PlanHandlerTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;

    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);

    public async Task DisposeAsync() => await _w.DisposeAsync();

    /// <summary>Issue 10 on AWS: <c>referenceMjd</c> (ResolveWindow puts it at <c>$.night.references</c>) selects the reference's inputs.</summary>
    [Fact]
    public async Task The_nights_reference_mjd_range_selects_the_reference_inputs_the_plan_step_takes()
    {
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(210, 40));
        var earlier = await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 6);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var mjds = (await conn.QueryAsync<(long Rid, double MjdObs)>("select rid, mjdobs from l2files where rid = any(@rids)",
            new { rids = earlier.Select(e => e.Rid).ToArray() })).OrderBy(r => r.MjdObs).ToList();
        var env = HandlerHost.EnvironmentOf(_w);
        var night = HandlerHost.NightJson()[..^1] + string.Create(CultureInfo.InvariantCulture,
            $$$""", "references": {"superiorReferences": false, "superiorMinFrames": 3, "superiorMinCoverageGain": 1, "mjdStart": {{{mjds[1].MjdObs}}}, "mjdEnd": {{{mjds[4].MjdObs}}}}}""");

        var plan = JsonSerializer.Deserialize(HandlerHost.Invoke(new PlanReferencesHandler(env).Handle, night), LambdaJsonContext.Default.PlanResult)!;

        var inputs = Assert.Single(await _w.ConfigsAsync(plan)).SpecAs<ReferenceImageSpec>().Inputs;
        Assert.Equal(mjds.Skip(1).Take(3).Select(m => m.Rid).Order(), inputs.Select(i => i.Rid).Order());
    }

    private JsonElement Resolve(string input) => JsonDocument.Parse(HandlerHost.Invoke(new ResolveWindowHandler(HandlerHost.EnvironmentOf(_w)).Handle,
        $$"""{"input": {{input}}, "executionId": "arn:aws:states:us-west-2:123456789012:execution:Rapid-prompt:{{Guid.NewGuid()}}"}""")).RootElement.Clone();

    private async Task<IReadOnlyList<JobConfig>> PlanAsync(Func<Func<string, string?>, Func<Stream, Stream>> handler, JsonElement night) =>
        await _w.ConfigsAsync(JsonSerializer.Deserialize(HandlerHost.Invoke(handler(HandlerHost.EnvironmentOf(_w)), night.GetRawText()), LambdaJsonContext.Default.PlanResult)!);

    /// <summary>
    /// Issue 13 on AWS: a prompt execution's input names its image (<c>{"submission": {"type": "science", "inputs": {"rid": …}}}</c>,
    /// as the Ingest λ and the job API start it); ResolveWindow takes the run's window from it (the exposure's second) and the plan
    /// steps plan that image alone, its tile's reference and nothing of another SCA of the same exposure, which stays pending.
    /// </summary>
    [Fact]
    public async Task A_science_submission_is_planned_alone_and_the_other_sca_of_its_exposure_stays_pending()
    {
        var (ra, dec) = OpsWorld.TileCentre(150, 2);
        await _w.EarlierImagesAsync(ra, dec, 3);
        var first = _w.Image(ra, dec, OpsWorld.Night, sca: 1);
        var second = first with { Sca = 2, File = _w.Keys.L2File($"sim/H158/{first.DateObs:yyyyMMddHHmmss}_sca02.fits"), Md5 = Guid.NewGuid().ToString("N") };
        var registered = await _w.Ingest.RegisterAsync([first, second]);
        var (rid1, rid2) = (registered[0].Rid, registered[1].Rid);

        var night = Resolve(JsonSerializer.Serialize(IngestHandler.PromptInput(rid1), LambdaJsonContext.Default.ExecutionInput));

        Assert.Equal(ObservationWindow.Format(first.DateObs), night.GetProperty("startDateTime").GetString());
        Assert.Equal(ObservationWindow.Format(first.DateObs.AddSeconds(1)), night.GetProperty("endDateTime").GetString());
        Assert.Equal("science", night.GetProperty("submission").GetProperty("type").GetString());
        var references = await PlanAsync(env => new PlanReferencesHandler(env).Handle, night);
        var science = await PlanAsync(env => new PlanScienceHandler(env).Handle, night);
        Assert.Single(references);
        Assert.Equal(rid1, Assert.Single(science).SpecAs<ScienceSpec>().Science.Rid);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal([rid2], await conn.QueryAsync<long>("select rid from l2pending where rid = any(@rids)", new { rids = new[] { rid1, rid2 } }));
    }

    /// <summary>
    /// A reference submission on AWS (the job API starts it on {stack}-prompt): the window is the processing date's first second,
    /// the reference planner plans the submitted (field, filter) even when it has a best reference, the science planner nothing.
    /// </summary>
    [Fact]
    public async Task A_reference_submission_plans_its_field_and_filter_again_and_no_science()
    {
        var (ra, dec) = OpsWorld.TileCentre(80, 10);
        var field = SkyTessellation.Roman.FieldOf(ra, dec);
        await _w.EarlierImagesAsync(ra, dec, 3);
        await _w.TonightImageAsync(ra, dec);
        var nightly = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        foreach (var c in await _w.ConfigsAsync(nightly)) await _w.WriteSuccessManifestAsync(c);
        await _w.Register.RegisterJobListAsync(nightly.JobList!);

        // Inputs as numbers, as the job API takes them (read as written: SubmissionBody.ReadInputs).
        var night = Resolve($$$"""{"submission": {"type": "reference", "inputs": {"field": {{{field}}}, "filter": "H158", "procdate": 20280908}}, "tag": "refs-1"}""");

        Assert.Equal(("2028-09-08 00:00:00", "2028-09-08 00:00:01", "20280908"),
            (night.GetProperty("startDateTime").GetString(), night.GetProperty("endDateTime").GetString(), night.GetProperty("procDate").GetString()));
        var reference = Assert.Single(await PlanAsync(env => new PlanReferencesHandler(env).Handle, night)).SpecAs<ReferenceImageSpec>();
        Assert.Equal(field, reference.Tile.Field);
        Assert.Empty(await PlanAsync(env => new PlanScienceHandler(env).Handle, night));
    }

    /// <summary>A submission in the execution input is checked before anything is planned: each refusal names what is wrong.</summary>
    [Theory]
    [InlineData("""{"submission": {"type": "science", "inputs": {}}}""", "submission: input 'rid'")]
    [InlineData("""{"submission": {"type": "science", "inputs": {"rid": "999999"}}}""", "submission: input 'rid': L2 image 999999 is not registered")]
    [InlineData("""{"submission": {"type": "reference", "inputs": {"field": "1", "filter": "Z999"}}}""", "submission: input 'field'")]
    [InlineData("""{"submission": {"type": "diff", "inputs": {"science": "/a.fits", "reference-image": "/b.fits", "reference-coverage": "/c.fits", "reference-uncertainty": "/d.fits"}}}""", "a diff job is not run by the nightly or prompt machine")]
    [InlineData("""{"submission": {"type": "sky"}}""", "submission: input 'type'")]
    [InlineData("""{"submission": {"type": "science", "inputs": {"rid": "1"}}, "procDate": "20280908"}""", "procDate is given with a submission")]
    public void A_bad_submission_is_refused_by_ResolveWindow_naming_the_input(string input, string message)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Resolve(input));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    /// <summary>An input value that is neither text nor a number fails the execution input's reading, naming the input.</summary>
    [Fact]
    public void A_submission_input_that_is_neither_text_nor_a_number_is_refused_naming_it()
    {
        var e = Assert.Throws<InvalidDataException>(() => Resolve("""{"submission": {"type": "science", "inputs": {"rid": [1]}}}"""));
        Assert.Contains("submission: input 'rid': must be a string or a number", e.Message, StringComparison.Ordinal);
    }
}
