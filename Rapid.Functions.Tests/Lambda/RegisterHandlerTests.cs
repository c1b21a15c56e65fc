using System.Text.Json;
using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Functions.Lambda;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>The plan and register handlers run for real: directory store, migrated database, JSON streams.</summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class RegisterHandlerTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    private Func<string, string?> _env = null!;

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        _env = HandlerHost.EnvironmentOf(_w);
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(210, -15));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 5);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg);
    }

    public async Task DisposeAsync() => await _w.DisposeAsync();

    private string Register(string planJson, string runJson) =>
        HandlerHost.Invoke(new RegisterHandler(_env).Handle, $$"""{"night": {{HandlerHost.NightJson()}}, "plan": {{planJson}}, "run": {{runJson}}}""");

    private static PlanResult PlanOf(string json) => JsonSerializer.Deserialize(json, LambdaJsonContext.Default.PlanResult)!;

    [Fact]
    public async Task A_planned_reference_job_with_its_manifest_is_registered_and_science_is_planned_on_it()
    {
        var planJson = HandlerHost.Invoke(new PlanReferencesHandler(_env).Handle, HandlerHost.NightJson());
        var plan = PlanOf(planJson);
        Assert.Equal((12, 1, "20280907"), (plan.Ppid, plan.ArraySize, plan.ProcDate));
        Assert.Null(plan.Chunks);
        var config = Assert.Single(await _w.ConfigsAsync(plan));
        await _w.WriteSuccessManifestAsync(config);

        var registered = JsonDocument.Parse(Register(planJson, """{"failed": false}""")).RootElement;

        Assert.Equal(1, registered.GetProperty("registered").GetInt32());
        Assert.Equal(1, registered.GetProperty("referenceImages").GetInt32());
        Assert.Equal(0, registered.GetProperty("lost").GetInt32());
        Assert.False(registered.GetProperty("runFailed").GetBoolean());
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from refimages where jid = @Jid and vbest > 0", new { config.Jid }));

        var science = PlanOf(HandlerHost.Invoke(new PlanScienceHandler(_env).Handle, HandlerHost.NightJson()));
        Assert.Equal((15, 1), (science.Ppid, science.ArraySize));
        Assert.True(Assert.Single(await _w.ConfigsAsync(science)).SpecAs<ScienceSpec>().Reference.IsRegistered);
    }

    [Fact]
    public void The_night_recovery_handler_plans_ppid_18_on_its_own_and_nothing_without_recovery_tables()
    {
        var plan = PlanOf(HandlerHost.Invoke(new PlanNightRecoveryHandler(_env).Handle, HandlerHost.NightJson()));

        Assert.Equal((18, 0, "20280907"), (plan.Ppid, plan.ArraySize, plan.ProcDate));
        Assert.Null(plan.JobList);
    }

    [Fact]
    public async Task A_failed_run_is_still_registered_and_its_jobs_without_manifest_are_closed_as_lost()
    {
        var planJson = HandlerHost.Invoke(new PlanReferencesHandler(_env).Handle, HandlerHost.NightJson());
        var config = Assert.Single(await _w.ConfigsAsync(PlanOf(planJson)));

        var registered = JsonDocument.Parse(Register(planJson, """{"failed": true, "error": "States.Timeout"}""")).RootElement;

        Assert.Equal((0, 1), (registered.GetProperty("registered").GetInt32(), registered.GetProperty("lost").GetInt32()));
        Assert.True(registered.GetProperty("runFailed").GetBoolean());
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var job = await conn.QuerySingleAsync<(short Status, int ExitCode, string Reason)>("select status, exitcode, reason from jobs where jid = @Jid", new { config.Jid });
        Assert.Equal((1, ExitCodes.Lost), (job.Status, job.ExitCode));
        Assert.Contains("Batch state failed: States.Timeout", job.Reason);
    }

    [Fact]
    public async Task Jobs_of_a_failed_chunk_are_closed_with_that_chunk_s_error()
    {
        var plan = PlanOf(HandlerHost.Invoke(new PlanReferencesHandler(_env).Handle, HandlerHost.NightJson()));
        var config = Assert.Single(await _w.ConfigsAsync(plan));
        // The plan as a chunked one would look: the whole list plus one chunk listing the same job.
        var chunked = plan with { Chunks = [new JobListChunk(plan.JobList!, 1)] };
        var planJson = JsonSerializer.Serialize(chunked, LambdaJsonContext.Default.PlanResult);

        var registered = JsonDocument.Parse(Register(planJson, """{"chunks": [{"failed": true, "error": "Batch.JobFailed"}]}""")).RootElement;

        Assert.Equal(1, registered.GetProperty("lost").GetInt32());
        Assert.True(registered.GetProperty("runFailed").GetBoolean());
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Contains("Batch.JobFailed", await conn.ExecuteScalarAsync<string>("select reason from jobs where jid = @Jid", new { config.Jid }));
    }

    [Fact]
    public void A_night_with_a_bad_field_fails_naming_it()
    {
        var e = Assert.ThrowsAny<Exception>(() => HandlerHost.Invoke(new PlanScienceHandler(_env).Handle,
            """{"startDateTime": "2028-09-07 00:00:00", "endDateTime": "2028-09-08 00:00:00", "procDate": "7 Sep"}"""));

        Assert.Contains("night.procDate", e.Message);
    }

    [Fact]
    public async Task Summarize_reports_the_registered_night()
    {
        var planJson = HandlerHost.Invoke(new PlanReferencesHandler(_env).Handle, HandlerHost.NightJson());
        await _w.WriteSuccessManifestAsync(Assert.Single(await _w.ConfigsAsync(PlanOf(planJson))));
        var registered = Register(planJson, """{"failed": false}""");

        var summary = JsonDocument.Parse(HandlerHost.Invoke(new SummarizeHandler(_env).Handle,
            "{\"night\": " + HandlerHost.NightJson() + ", \"references\": {\"plan\": " + planJson + ", \"run\": {\"failed\": false}, \"registered\": " + registered + "}, "
            + "\"science\": {\"plan\": {\"ppid\": 15, \"procDate\": \"20280907\", \"arraySize\": 0, \"closedAtPlanning\": 0}, \"run\": {\"skipped\": true}}}")).RootElement;

        Assert.Equal("20280907", summary.GetProperty("procDate").GetString());
        Assert.Equal(1, summary.GetProperty("totalJobs").GetInt32());
        Assert.Equal(1, summary.GetProperty("referenceImages").GetInt32());
        Assert.Equal(1, summary.GetProperty("references").GetProperty("registered").GetInt32());
        Assert.False(summary.TryGetProperty("science", out _));
    }
}
