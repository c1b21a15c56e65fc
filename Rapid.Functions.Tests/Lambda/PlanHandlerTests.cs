using System.Globalization;
using System.Text.Json;
using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Sky;
using Rapid.Functions.Lambda;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>What the plan handlers take from the night besides its window: the reference selection of the execution input.</summary>
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
}
