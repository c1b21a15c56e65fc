using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Functions.Steps;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

[Collection(OpsDatabaseCollection.Name)]
public sealed class SummarizeNightTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    public async Task Counts_jobs_by_pipeline_and_exit_code_with_failures_products_and_sources()
    {
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(120, -40));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 3);
        for (var sca = 1; sca <= 3; sca++) await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: sca);
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var configs = await _w.ConfigsAsync(plan);
        await _w.WriteSuccessManifestAsync(configs[0], nsources: 5);
        await _w.WriteSuccessManifestAsync(configs[1], nsources: 8);
        await _w.Register.RegisterJobListAsync(plan.JobList!, new Dictionary<long, string> { [configs[2].Jid] = "killed by signal 9" });

        var s = await _w.Summarize.SummarizeAsync(OpsWorld.ProcDate, requireJobs: true);

        Assert.Equal(3, s.TotalJobs);
        Assert.Contains(new JobCount(15, 1, 0, 2), s.Jobs);
        Assert.Contains(new JobCount(15, 1, ExitCodes.Lost, 1), s.Jobs);
        var failure = Assert.Single(s.Failures);
        Assert.Equal(configs[2].Jid, failure.Jid);
        Assert.Contains("killed by signal 9", failure.Reason);
        Assert.Equal(2, s.DifferenceImages);
        Assert.Equal(2, s.ReferenceImages); // both co-added their own (no registered reference existed)
        Assert.Equal(13, s.SourcesFound);
        var timing = Assert.Single(s.Elapsed);
        Assert.Equal((15, 2, 42.0), (timing.Ppid, timing.Jobs, timing.MeanSeconds));
    }

    [Fact]
    public async Task An_unknown_processing_date_is_an_error_naming_it_when_jobs_are_required()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => _w.Summarize.SummarizeAsync(ProcessingDate.Parse("19990101"), requireJobs: true));
        Assert.Contains("19990101", e.Message);
        Assert.Equal(0, (await _w.Summarize.SummarizeAsync(ProcessingDate.Parse("19990101"))).TotalJobs);
    }
}
