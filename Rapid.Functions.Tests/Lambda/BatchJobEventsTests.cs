using System.Text.Json;
using Dapper;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.Lambda;
using Rapid.Functions.Record;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>
/// AWS Batch job state-change events (EventBridge → SQS → the RecordBatchEvents λ) recorded on the attempts that ran
/// those job list entries. The fixtures (Lambda/Events) follow the event format of the AWS Batch User Guide ("Job state
/// change events", whose detail is DescribeJobs' JobDetail) for Rapid's jobs: array children, a child Batch retried
/// after a spot reclaim, the array parent's summary, a single job.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class BatchJobEventsTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private const string FixtureJobList = "s3://rapid-pipeline-files/20280907/plans/ppid15_20280908T074012345.json";
    private OpsWorld _w = null!;

    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    private static string Fixture(string name, string? jobList = null)
    {
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Lambda", "Events", $"batch-job-state-change-{name}.json"));
        return jobList is null ? json : json.Replace(FixtureJobList, jobList, StringComparison.Ordinal);
    }

    [Fact]
    public void A_running_array_child_is_its_entry_of_the_job_list_in_its_first_Batch_attempt()
    {
        var change = Assert.Single(BatchJobEvents.Parse(Fixture("array-child-running")));

        Assert.Equal((ObjectRef.Parse(FixtureJobList), 1, 1, JobStates.Running, StateSources.Batch), (change.JobList, change.ArrayIndex, change.BatchAttempt, change.State, change.Source));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1852011664812), change.At);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1852011601250), change.Submitted);
        Assert.Equal(("7d1c6e2a-58b4-4f0e-b2a9-3c8d5e6f7a10:1", "rapid-queue"), (change.BatchJobId, change.JobQueue));
        Assert.Equal("rapid-science/default/0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b", change.LogStream);
        Assert.EndsWith("/5a3e9c1b7d2f4e6a8b0c1d2e3f4a5b6c", change.ContainerInstance);
    }

    [Fact]
    public void A_child_Batch_retried_gives_each_attempt_with_its_exit_code_and_reason()
    {
        var changes = BatchJobEvents.Parse(Fixture("array-child-failed-after-retry"));

        Assert.Equal([(1, JobStates.Failed, (int?)null), (2, JobStates.Failed, 64)], changes.Select(c => (c.BatchAttempt, c.State, c.ExitCode)));
        Assert.All(changes, c => Assert.Equal(3, c.ArrayIndex));
        Assert.Equal("Host EC2 (instance i-0a1b2c3d4e5f60718) terminated.", changes[0].Reason);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1852011790733), changes[0].Stopped);
        Assert.Contains("rapid-ce-ondemand", changes[1].ContainerInstance);
    }

    [Fact]
    public void An_array_parent_and_a_job_without_a_job_list_are_not_recorded()
    {
        Assert.Empty(BatchJobEvents.Parse(Fixture("array-parent-failed")));
        Assert.Empty(BatchJobEvents.Parse(Fixture("array-child-running").Replace("RAPID_JOB_LIST", "OTHER_VARIABLE", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_single_job_is_entry_0_of_its_list()
    {
        var change = Assert.Single(BatchJobEvents.Parse(Fixture("single-job-runnable")));
        Assert.Equal((0, 1, JobStates.Runnable), (change.ArrayIndex, change.BatchAttempt, change.State));
    }

    [Theory]
    [InlineData("""{"source":"aws.s3","detail-type":"Object Created","detail":{}}""", "source 'aws.s3'")]
    [InlineData("""{"source":"aws.batch","detail-type":"Batch Job State Change"}""", "without its detail")]
    [InlineData("not json", "not a Batch job state-change event")]
    public void Something_else_is_an_error_naming_what_it_is(string body, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => BatchJobEvents.Parse(body));
        Assert.Contains(expected, e.Message);
    }

    /// <summary>A planned science array (two jobs) whose list the fixtures name.</summary>
    private async Task<(ObjectRef JobList, long[] Jids)> PlannedAsync()
    {
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(120, 30));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 3);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: 1);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: 2);
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        return (plan.JobList!, (await _w.ConfigsAsync(plan)).Select(c => c.Jid).ToArray());
    }

    private static string SqsEvent(params (string Id, string Body)[] messages) =>
        JsonSerializer.Serialize(new { Records = messages.Select(m => new { messageId = m.Id, body = m.Body, eventSource = "aws:sqs" }) });

    private string Handle(string sqsEvent) => HandlerHost.Invoke(new RecordBatchEventsHandler(HandlerHost.EnvironmentOf(_w)).Handle, sqsEvent);

    private async Task<List<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<T>(sql, args)).ToList();
    }

    [Fact]
    public async Task The_handler_records_submission_start_and_end_on_the_attempt_and_a_redelivery_changes_nothing()
    {
        var (list, jids) = await PlannedAsync();
        var running = Fixture("array-child-running", list.ToString());
        var succeeded = Fixture("array-child-succeeded", list.ToString());

        var response = Handle(SqsEvent(("m1", running), ("m2", succeeded)));
        Assert.Empty(JsonDocument.Parse(response).RootElement.GetProperty("batchItemFailures").EnumerateArray());
        Handle(SqsEvent(("m1", running), ("m2", succeeded)));

        var a = Assert.Single(await QueryAsync<(int Attempt, string State, double QueueSeconds, int ProcessExit, string Queue, string LogStream)>(
            "select attempt, state, queueseconds::float8, processexit, jobqueue, logstream from attempts where jid = @jid", new { jid = jids[1] }));
        Assert.Equal((1, JobStates.Succeeded, (1852011664812 - 1852011601250) / 1000.0, 0, "rapid-queue"), (a.Attempt, a.State, a.QueueSeconds, a.ProcessExit, a.Queue));
        Assert.Equal(
            [(JobStates.Planned, StateSources.Planner), (JobStates.Running, StateSources.Batch), (JobStates.Succeeded, StateSources.Batch)],
            await QueryAsync<(string, string)>("select state, source from jobstates where jid = @jid order by at", new { jid = jids[1] }));
        // Entry 0 of the list was not in the events.
        Assert.Equal(JobStates.Planned, (await QueryAsync<string>("select state from jobattempts where jid = @jid", new { jid = jids[0] }))[0]);
    }

    [Fact]
    public async Task A_late_event_never_moves_an_attempt_back()
    {
        var (list, jids) = await PlannedAsync();
        Handle(SqsEvent(("m2", Fixture("array-child-succeeded", list.ToString()))));
        Handle(SqsEvent(("m1", Fixture("array-child-running", list.ToString()))));

        Assert.Equal(JobStates.Succeeded, (await QueryAsync<string>("select state from jobattempts where jid = @jid", new { jid = jids[1] }))[0]);
    }

    [Fact]
    public async Task A_retry_by_Batch_is_recorded_as_a_second_attempt_of_the_same_entry()
    {
        var (list, _) = await PlannedAsync();
        // The fixture's child is entry 3: give the plan's list four entries by pointing the event at entry 1 instead.
        var body = Fixture("array-child-failed-after-retry", list.ToString()).Replace("\"index\": 3", "\"index\": 1", StringComparison.Ordinal);
        Handle(SqsEvent(("m", body)));

        var jid = (await QueryAsync<long>("select jid from jobattempts where joblist = @list and arrayindex = 1", new { list = list.ToString() }))[0];
        var attempts = await QueryAsync<(int Attempt, string Trigger, int BatchAttempt, string State, int? ProcessExit, string Reason)>(
            "select attempt, trigger, batchattempt, state, processexit, batchreason from jobattempts where jid = @jid order by attempt", new { jid });
        Assert.Equal([(1, AttemptTriggers.Plan, 1, JobStates.Failed, (int?)null), (2, AttemptTriggers.BatchRetry, 2, JobStates.Failed, 64)],
            attempts.Select(x => (x.Attempt, x.Trigger, x.BatchAttempt, x.State, x.ProcessExit)));
        Assert.StartsWith("Host EC2", attempts[0].Reason);
    }

    [Fact]
    public async Task An_event_of_a_job_Rapid_did_not_plan_is_ignored_and_a_malformed_message_fails_alone()
    {
        await PlannedAsync();
        var response = JsonDocument.Parse(Handle(SqsEvent(("m-other", Fixture("array-child-running")), ("m-bad", "{\"source\":\"aws.batch\"")))).RootElement;

        Assert.Equal(["m-bad"], response.GetProperty("batchItemFailures").EnumerateArray().Select(f => f.GetProperty("itemIdentifier").GetString()));
        Assert.Equal(0L, (await QueryAsync<long>("select count(*) from jobstates where source = 'batch'"))[0]);
    }
}
