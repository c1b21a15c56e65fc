using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Rapid.Core.Jobs;
using Rapid.Functions.Api;
using Rapid.Functions.Lambda;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>
/// CloseExecution λ against a real ops database, fed the "Step Functions Execution Status Change" event of
/// Events/sfn-execution-status-change-timed-out.json (written from the format AWS documents for EventBridge, not captured
/// from a real event) in an SQS batch, as the queue behind the EventBridge rule delivers it: an execution that took its
/// date's lease and planned jobs, then timed out (no Catch ran), has its run ended, its lease released, its open jobs
/// registered or closed as lost with the reason, and the job API's submission it ran failed.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class CloseExecutionHandlerTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public Task DisposeAsync() => _w.DisposeAsync().AsTask();

    private static JsonObject Sample() => JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory,
        "Lambda", "Events", "sfn-execution-status-change-timed-out.json")))!.AsObject();

    private static string Arn(JsonObject evt) => evt["detail"]!["executionArn"]!.GetValue<string>();

    private static string Batch(params (string Id, string Body)[] messages) => new JsonObject
    {
        ["Records"] = new JsonArray([.. messages.Select(m => (JsonNode)new JsonObject { ["messageId"] = m.Id, ["body"] = m.Body, ["eventSource"] = "aws:sqs" })]),
    }.ToJsonString();

    private string Close(string batch) => HandlerHost.Invoke(new CloseExecutionHandler(HandlerHost.EnvironmentOf(_w)).Handle, batch);

    private JsonElement Resolve(string executionId) => JsonDocument.Parse(HandlerHost.Invoke(new ResolveWindowHandler(HandlerHost.EnvironmentOf(_w)).Handle,
        $$"""{"input": {{HandlerHost.NightJson()}}, "executionId": "{{executionId}}"}""")).RootElement.Clone();

    [Fact]
    public async Task A_timed_out_execution_frees_its_date_ends_its_run_and_closes_its_jobs_and_submission_with_the_reason()
    {
        var (ra, dec) = OpsWorld.TileCentre(120, 5);
        await _w.EarlierImagesAsync(ra, dec, 3);
        var first = await _w.TonightImageAsync(ra, dec);
        await _w.TonightImageAsync(ra, dec);
        var evt = Sample();
        var arn = Arn(evt);
        // The execution began (lease, run) and planned its science jobs; one job's manifest was written, then it timed out.
        var night = Resolve(arn);
        var plan = JsonSerializer.Deserialize(HandlerHost.Invoke(new PlanScienceHandler(HandlerHost.EnvironmentOf(_w)).Handle, night.GetRawText()),
            LambdaJsonContext.Default.PlanResult)!;
        var configs = await _w.ConfigsAsync(plan);
        Assert.Equal(2, configs.Count);
        var finished = configs.Single(c => ((Rapid.Core.Contracts.ScienceSpec)c.Spec).Science.Rid == first.Rid);
        await _w.WriteSuccessManifestAsync(finished);
        var submissions = new Submissions(_w.DataSource);
        var (subid, _) = await submissions.SubmitAsync(JobTypes.Science.Validate(new Dictionary<string, string?> { ["rid"] = first.Rid.ToString(System.Globalization.CultureInfo.InvariantCulture) }), "t1");
        await submissions.StartedAsync(subid, arn);
        Assert.Throws<Rapid.Functions.OpsDatabase.RunInProgressException>(() => Resolve(arn + "-second"));
        var succeeded = Sample();
        succeeded["detail"]!["status"] = "SUCCEEDED";
        succeeded["detail"]!["executionArn"] = arn + "-other";

        var response = Close(Batch(("m1", evt.ToJsonString()), ("m2", "not an event"), ("m3", succeeded.ToJsonString())));

        // Only the message that is not an event returns to the queue; a succeeded execution is not this function's.
        Assert.Equal(["m2"], JsonNode.Parse(response)!["batchItemFailures"]!.AsArray().Select(f => f!["itemIdentifier"]!.GetValue<string>()));
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*)::int from runleases"));
        var run = await conn.QuerySingleAsync<(string Status, bool Ended, string Error)>(
            "select status, ended is not null, summary->>'error' from runs where execution = @arn", new { arn });
        Assert.Equal(("failed", true), (run.Status, run.Ended));
        Assert.Equal("execution rid5-v1 timed out", run.Error);
        var jobs = (await conn.QueryAsync<(long Jid, short Status, int? ExitCode, string? Reason)>(
            "select jid, status, exitcode, reason from jobs where ppid = 15 order by jid")).ToDictionary(j => j.Jid);
        Assert.Equal((short)1, jobs[finished.Jid].Status);
        Assert.Equal(0, jobs[finished.Jid].ExitCode);
        var lost = Assert.Single(jobs.Values, j => j.Jid != finished.Jid);
        Assert.Equal((short)1, lost.Status);
        Assert.Equal(ExitCodes.Lost, lost.ExitCode);
        Assert.EndsWith("(execution rid5-v1 timed out)", lost.Reason);
        var submission = (await submissions.GetAsync(subid))!;
        Assert.Equal(("failed", "execution rid5-v1 timed out"), (submission.State, submission.Reason));
        Assert.NotNull(submission.RunId);

        // Delivered again: nothing changes; and the date is free for the next execution.
        var ended = await conn.QuerySingleAsync<DateTime>("select ended from runs where execution = @arn", new { arn });
        Assert.Equal("""{"batchItemFailures":[]}""", Close(Batch(("m4", evt.ToJsonString()))));
        Assert.Equal(ended, await conn.QuerySingleAsync<DateTime>("select ended from runs where execution = @arn", new { arn }));
        Assert.Equal(jobs.Values.OrderBy(j => j.Jid), await conn.QueryAsync<(long, short, int?, string?)>("select jid, status, exitcode, reason from jobs where ppid = 15 order by jid"));
        Assert.Equal(OpsWorld.ProcDate.ToString(), Resolve(arn + "-second").GetProperty("procDate").GetString());
    }

    /// <summary>An execution that failed before it began a run (ResolveWindow gave up waiting for the lease): its submission, which would read running for ever, fails with the error and cause.</summary>
    [Fact]
    public async Task A_failed_execution_that_never_began_a_run_fails_its_submission_with_the_error_and_cause()
    {
        var evt = Sample();
        evt["detail"]!["status"] = "FAILED";
        evt["detail"]!["error"] = "RunInProgressException";
        evt["detail"]!["cause"] = "processing date 20280910 is being processed";
        var arn = Arn(evt);
        var (ra, dec) = OpsWorld.TileCentre(40, -10);
        var image = await _w.TonightImageAsync(ra, dec);
        var submissions = new Submissions(_w.DataSource);
        var (subid, _) = await submissions.SubmitAsync(JobTypes.Science.Validate(new Dictionary<string, string?> { ["rid"] = image.Rid.ToString(System.Globalization.CultureInfo.InvariantCulture) }), null);
        await submissions.StartedAsync(subid, arn);

        Assert.Equal("""{"batchItemFailures":[]}""", Close(Batch(("m1", evt.ToJsonString()))));

        var submission = (await submissions.GetAsync(subid))!;
        Assert.Equal("failed", submission.State);
        Assert.Equal("execution rid5-v1 failed: RunInProgressException: processing date 20280910 is being processed", submission.Reason);
        Assert.Null(submission.RunId);
    }
}
