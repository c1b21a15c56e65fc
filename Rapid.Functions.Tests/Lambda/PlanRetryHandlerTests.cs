using System.Text.Json;
using Dapper;
using Rapid.Core.Sky;
using Rapid.Functions.Lambda;
using Rapid.Functions.Record;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>
/// The retry states of the state machine as the handlers run them: Register → PlanRetry → (wait, Batch) → Register →
/// PlanRetry ... until the policy of the function's environment has nothing more to resubmit.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class PlanRetryHandlerTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    private Func<string, string?> _env = null!;

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        _env = HandlerHost.EnvironmentOf(_w, new() { [ResubmissionPolicy.BackoffVariable] = "7", [ResubmissionPolicy.MaxAttemptsVariable] = "3" });
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(215, -12));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 4);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg);
    }

    public async Task DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    public async Task A_lost_job_is_planned_again_round_after_round_with_the_environments_back_off_until_its_attempts_are_spent()
    {
        var stagePlan = HandlerHost.Invoke(new PlanReferencesHandler(_env).Handle, HandlerHost.NightJson());
        var jid = Assert.Single(await _w.ConfigsAsync(JsonSerializer.Deserialize(stagePlan, LambdaJsonContext.Default.PlanResult)!)).Jid;
        Register(stagePlan, """{"failed": true, "error": "States.Timeout"}""");

        var rounds = new List<ResubmissionRound>();
        for (var previous = 0; previous < 3; previous++)
        {
            var json = HandlerHost.Invoke(new PlanRetryHandler(_env).Handle,
                $$"""{"night": {{HandlerHost.NightJson()}}, "plan": {{stagePlan}}, "previous": {{previous}}}""");
            var round = JsonSerializer.Deserialize(json, LambdaJsonContext.Default.ResubmissionRound)!;
            rounds.Add(round);
            // The state machine's Choice reads these paths: $.{stage}.retry.plan.arraySize, .waitSeconds, .plan.jobList, .round.
            var doc = JsonDocument.Parse(json).RootElement;
            Assert.Equal(round.Plan.ArraySize, doc.GetProperty("plan").GetProperty("arraySize").GetInt32());
            Assert.Equal(round.WaitSeconds, doc.GetProperty("waitSeconds").GetInt32());
            if (round.Plan.ArraySize > 0) Register(JsonSerializer.Serialize(round.Plan, LambdaJsonContext.Default.PlanResult), """{"failed": false}""");
        }

        Assert.Equal([(1, 1, 7), (2, 1, 14), (3, 0, 0)], rounds.Select(r => (r.Round, r.Plan.ArraySize, r.WaitSeconds)));
        Assert.NotEqual(rounds[0].Plan.JobList, rounds[1].Plan.JobList);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(
            [(1, AttemptTriggers.Plan, JobStates.Resubmitted), (2, AttemptTriggers.Resubmit, JobStates.Resubmitted), (3, AttemptTriggers.Resubmit, JobStates.Lost)],
            (await conn.QueryAsync<(int, string, string)>("select attempt, trigger, state from jobattempts where jid = @jid order by attempt", new { jid })).ToList());
        Assert.Contains("States.Timeout", await conn.ExecuteScalarAsync<string>("select reason from jobattempts where jid = @jid and attempt = 1", new { jid }));
    }

    /// <summary>The execution input's policy (ResolveWindow puts it at <c>$.night.retry</c>) wins over the function's environment.</summary>
    [Fact]
    public async Task The_nights_policy_from_the_execution_input_overrides_the_environment()
    {
        var stagePlan = HandlerHost.Invoke(new PlanReferencesHandler(_env).Handle, HandlerHost.NightJson());
        var jid = Assert.Single(await _w.ConfigsAsync(JsonSerializer.Deserialize(stagePlan, LambdaJsonContext.Default.PlanResult)!)).Jid;
        Register(stagePlan, """{"failed": true, "error": "States.Timeout"}""");
        var night = HandlerHost.NightJson()[..^1] + """, "retry": {"exitCodes": [70], "maxAttempts": 2, "backoffSeconds": 0, "backoffRate": 2}}""";

        var rounds = new List<ResubmissionRound>();
        for (var previous = 0; previous < 2; previous++)
        {
            var round = JsonSerializer.Deserialize(HandlerHost.Invoke(new PlanRetryHandler(_env).Handle,
                $$"""{"night": {{night}}, "plan": {{stagePlan}}, "previous": {{previous}}}"""), LambdaJsonContext.Default.ResubmissionRound)!;
            rounds.Add(round);
            if (round.Plan.ArraySize > 0) Register(JsonSerializer.Serialize(round.Plan, LambdaJsonContext.Default.PlanResult), """{"failed": true, "error": "States.Timeout"}""");
        }

        // Two attempts at most and no back-off (the environment says three and 7 s).
        Assert.Equal([(1, 1, 0), (2, 0, 0)], rounds.Select(r => (r.Round, r.Plan.ArraySize, r.WaitSeconds)));
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("select count(*) from jobattempts where jid = @jid", new { jid }));
    }

    [Fact]
    public void A_bad_policy_in_the_environment_fails_the_state_naming_the_variable()
    {
        var env = HandlerHost.EnvironmentOf(_w, new() { [ResubmissionPolicy.ExitCodesVariable] = "64,lost" });
        var e = Assert.Throws<ArgumentException>(() => HandlerHost.Invoke(new PlanRetryHandler(env).Handle,
            $$"""{"night": {{HandlerHost.NightJson()}}, "plan": {"ppid": 12, "procDate": "{{OpsWorld.ProcDate}}", "arraySize": 0}, "previous": 0}"""));
        Assert.Contains(ResubmissionPolicy.ExitCodesVariable, e.Message);
    }

    private void Register(string planJson, string runJson) =>
        HandlerHost.Invoke(new RegisterHandler(_env).Handle, $$"""{"night": {{HandlerHost.NightJson()}}, "plan": {{planJson}}, "run": {{runJson}}}""");
}
