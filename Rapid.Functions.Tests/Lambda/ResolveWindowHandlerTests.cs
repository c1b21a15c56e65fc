using System.Text.Json;
using Dapper;
using Rapid.Functions.Lambda;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>ResolveWindow λ against a real ops database: the watermark, the run lease, and what it leaves at <c>$.night</c>.</summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class ResolveWindowHandlerTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    // 08:30 on 8 September 2028 in Los Angeles (PDT, UTC-7): when the nightly schedule fires.
    private static readonly DateTimeOffset Morning = new(2028, 9, 8, 15, 30, 0, TimeSpan.Zero);

    /// <summary>An execution's id as Step Functions' context object gives it.</summary>
    private static string NewExecutionId() => $"arn:aws:states:us-west-2:123456789012:execution:Rapid-nightly:{Guid.NewGuid()}";

    /// <summary>ResolveWindow with <paramref name="json"/> as the execution input, in the payload the state machine builds.</summary>
    private JsonElement Resolve(string json, string timeZone = "America/Los_Angeles", DateTimeOffset? now = null, string? executionId = null) =>
        ResolvePayload($$"""{"input": {{json}}, "executionId": "{{executionId ?? NewExecutionId()}}"}""", timeZone, now);

    private JsonElement ResolvePayload(string payload, string timeZone = "America/Los_Angeles", DateTimeOffset? now = null)
    {
        var handler = new ResolveWindowHandler(HandlerHost.EnvironmentOf(_w, new() { ["RAPID_TIME_ZONE"] = timeZone }), new FixedClock(now ?? Morning));
        return JsonDocument.Parse(HandlerHost.Invoke(handler.Handle, payload)).RootElement.Clone();
    }

    private string Summarize(JsonElement night)
    {
        var handler = new SummarizeHandler(HandlerHost.EnvironmentOf(_w));
        return HandlerHost.Invoke(handler.Handle, $$"""{"night": {{night.GetRawText()}}}""");
    }

    [Fact]
    public void An_empty_input_is_the_scheduled_window_continuing_from_the_last_one()
    {
        var first = Resolve("{}");
        Assert.Equal("2028-09-07 15:30:00", first.GetProperty("startDateTime").GetString());
        Assert.Equal("2028-09-08 15:30:00", first.GetProperty("endDateTime").GetString());
        Assert.Equal("20280908", first.GetProperty("procDate").GetString());
        Assert.True(first.GetProperty("scheduled").GetBoolean());
        Assert.False(first.GetProperty("force").GetBoolean());
        Summarize(first);

        // The next morning's execution starts where this one ended.
        var next = Resolve("{}", now: Morning.AddDays(1));
        Assert.Equal("2028-09-08 15:30:00", next.GetProperty("startDateTime").GetString());
        Assert.Equal("2028-09-09 15:30:00", next.GetProperty("endDateTime").GetString());
        Assert.Equal("20280909", next.GetProperty("procDate").GetString());
    }

    [Fact]
    public void The_time_zone_comes_from_the_environment()
    {
        var night = Resolve("{}", "UTC", now: new DateTimeOffset(2028, 9, 8, 23, 30, 0, TimeSpan.Zero));

        Assert.Equal("20280908", night.GetProperty("procDate").GetString());
        Assert.Equal("2028-09-07 23:30:00", night.GetProperty("startDateTime").GetString());
        Summarize(night);
        Assert.Equal("20280909", Resolve("{}", "Europe/Berlin", now: new DateTimeOffset(2028, 9, 9, 0, 30, 0, TimeSpan.Zero))
            .GetProperty("procDate").GetString());
    }

    [Fact]
    public void A_full_input_is_kept_as_given()
    {
        var night = Resolve("""{"startDateTime": "2028-09-07 00:00:00", "endDateTime": "2028-09-08 08:30:00", "procDate": "20280910", "force": true}""");

        Assert.Equal("2028-09-07 00:00:00", night.GetProperty("startDateTime").GetString());
        Assert.Equal("2028-09-08 08:30:00", night.GetProperty("endDateTime").GetString());
        Assert.Equal("20280910", night.GetProperty("procDate").GetString());
        Assert.True(night.GetProperty("force").GetBoolean());
        Assert.False(night.GetProperty("scheduled").GetBoolean());
    }

    [Fact]
    public async Task An_execution_holds_its_date_from_ResolveWindow_to_Summarize_and_a_second_one_fails_naming_it()
    {
        const string input = """{"startDateTime": "2028-09-07 00:00:00", "endDateTime": "2028-09-08 08:30:00", "procDate": "20280910"}""";
        var night = Resolve(input);
        Assert.True(Guid.TryParse(night.GetProperty("lease").GetString(), out _));

        var e = Assert.Throws<RunInProgressException>(() => Resolve(input));
        Assert.Contains("20280910", e.Message);
        Assert.Contains(ResolveWindowHandler.LeaseHolder, e.Message);

        Summarize(night);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from runleases"));
        Resolve(input); // free again
    }

    [Fact]
    public async Task ReleaseNight_frees_the_date_of_a_failed_execution_and_leaves_its_scheduled_window_to_be_resumed()
    {
        var night = Resolve("{}");
        var released = JsonDocument.Parse(HandlerHost.Invoke(new ReleaseNightHandler(HandlerHost.EnvironmentOf(_w)).Handle,
            $$$"""{"night": {{{night.GetRawText()}}}, "failure": {"Error": "States.TaskFailed", "Cause": "a test"}}""")).RootElement;
        Assert.True(released.GetProperty("released").GetBoolean());

        var again = Resolve("{}", now: Morning.AddHours(2));
        Assert.Equal(night.GetProperty("startDateTime").GetString(), again.GetProperty("startDateTime").GetString());
        Assert.Equal(night.GetProperty("procDate").GetString(), again.GetProperty("procDate").GetString());
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from nightwindows where completed is null"));
        // The failed execution's run is ended as failed with the failed state's error; the second one is running.
        Assert.Equal([("failed", "States.TaskFailed: a test"), ("running", null)],
            (await conn.QueryAsync<(string, string?)>("select status, summary->>'error' from runs order by runid")).ToList());
    }

    [Fact]
    public async Task The_night_carries_the_inputs_tag_retry_policy_and_reference_selection_and_its_run_is_begun()
    {
        var night = Resolve("""
            {"tag": "campaign-9", "maxAttempts": 2, "retryExitCodes": [70], "retryBackoff": 5,
             "superiorReferences": true, "superiorMinFrames": 4, "referenceMjd": "61000:61100.5"}
            """);

        var parsed = JsonSerializer.Deserialize(night.GetRawText(), LambdaJsonContext.Default.NightInput)!;
        Assert.Equal("campaign-9", parsed.Tag);
        Assert.Equal((2, 5.0, 2.0), (parsed.Retry!.MaxAttempts, parsed.Retry.BackoffSeconds, parsed.Retry.BackoffRate));
        Assert.Equal([70], parsed.Retry.ExitCodes);
        Assert.Equal((true, 4, 1.0, 61000.0, 61100.5), (parsed.References!.SuperiorReferences, parsed.References.SuperiorMinFrames,
            parsed.References.SuperiorMinCoverageGain, parsed.References.MjdStart, parsed.References.MjdEnd));
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var run = await conn.QuerySingleAsync<(long RunId, string Tag, string Executor, string Status, int MaxAttempts)>(
            "select runid, tag, executor, status, (options->'resubmission'->>'maxAttempts')::int from runs");
        Assert.Equal((parsed.RunId!.Value, "campaign-9", "aws", "running", 2), run);
    }

    [Theory]
    [InlineData("""{"startDateTime": "2028-09-07 00:00:00"}""", "endDateTime")]
    [InlineData("""{"startDateTime": "yesterday", "endDateTime": "2028-09-08 08:30:00"}""", "startDateTime")]
    [InlineData("""{"procDate": "2028-09-08"}""", "procDate")]
    [InlineData("""{"procDate": "99991231"}""", "procDate")]
    [InlineData("""{"force": "yes"}""", "force")]
    [InlineData("""{"startTime": "2028-09-07 00:00:00", "endDateTime": "2028-09-08 08:30:00"}""", "startTime")]
    [InlineData("""[1, 2]""", "input")]
    [InlineData("""{"tag": "not a tag"}""", "tag")]
    [InlineData("""{"maxAttempts": 0}""", "maxAttempts")]
    [InlineData("""{"retryExitCodes": [64, 32]}""", "retryExitCodes")]
    [InlineData("""{"retryBackoff": -1}""", "retryBackoff")]
    [InlineData("""{"superiorMinFrames": 0}""", "superiorMinFrames")]
    [InlineData("""{"referenceMjd": "61100:61000"}""", "referenceMjd")]
    public void Bad_input_fails_with_a_message_naming_the_field(string json, string field)
    {
        var e = Assert.ThrowsAny<Exception>(() => Resolve(json));

        Assert.Contains(field, e.Message);
    }

    /// <summary>Issue 13: <c>runs.execution</c> was empty on AWS; the run now names the execution that began it.</summary>
    [Fact]
    public async Task The_run_records_the_execution_that_began_it()
    {
        var execution = NewExecutionId();
        var night = Resolve("{}", executionId: execution);

        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(execution, await conn.ExecuteScalarAsync<string>("select execution from runs where runid = @id",
            new { id = night.GetProperty("runId").GetInt64() }));
    }

    [Theory]
    [InlineData("""{"input": {}}""", "executionId is missing")]
    [InlineData("""{"input": {}, "executionId": "rapid-nightly-1"}""", "not a state machine execution ARN")]
    [InlineData("""{"executionId": "arn:aws:states:us-west-2:123456789012:execution:Rapid-nightly:x"}""", "input (the execution input) is missing")]
    [InlineData("""{"input": {}, "executionId": "arn:aws:states:us-west-2:123456789012:execution:Rapid-nightly:x", "runId": 3}""", "runId")]
    public async Task A_payload_without_its_execution_is_refused_before_the_database_is_reached(string payload, string message)
    {
        var e = Assert.ThrowsAny<Exception>(() => ResolvePayload(payload));

        Assert.Contains(message, e.Message);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from runs"));
    }

    [Fact]
    public void Field_names_are_matched_regardless_of_case()
    {
        var night = Resolve("""{"StartDateTime": "2028-09-07 00:00:00", "enddatetime": "2028-09-08 08:30:00"}""");

        Assert.Equal("2028-09-08 08:30:00", night.GetProperty("endDateTime").GetString());
    }
}
