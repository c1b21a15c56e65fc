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

    private JsonElement Resolve(string json, string timeZone = "America/Los_Angeles", DateTimeOffset? now = null)
    {
        var handler = new ResolveWindowHandler(HandlerHost.EnvironmentOf(_w, new() { ["RAPID_TIME_ZONE"] = timeZone }), new FixedClock(now ?? Morning));
        return JsonDocument.Parse(HandlerHost.Invoke(handler.Handle, json)).RootElement.Clone();
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
        var released = JsonDocument.Parse(HandlerHost.Invoke(new ReleaseNightHandler(HandlerHost.EnvironmentOf(_w)).Handle, night.GetRawText())).RootElement;
        Assert.True(released.GetProperty("released").GetBoolean());

        var again = Resolve("{}", now: Morning.AddHours(2));
        Assert.Equal(night.GetProperty("startDateTime").GetString(), again.GetProperty("startDateTime").GetString());
        Assert.Equal(night.GetProperty("procDate").GetString(), again.GetProperty("procDate").GetString());
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from nightwindows where completed is null"));
    }

    [Theory]
    [InlineData("""{"startDateTime": "2028-09-07 00:00:00"}""", "endDateTime")]
    [InlineData("""{"startDateTime": "yesterday", "endDateTime": "2028-09-08 08:30:00"}""", "startDateTime")]
    [InlineData("""{"procDate": "2028-09-08"}""", "procDate")]
    [InlineData("""{"procDate": "99991231"}""", "procDate")]
    [InlineData("""{"force": "yes"}""", "force")]
    [InlineData("""{"startTime": "2028-09-07 00:00:00", "endDateTime": "2028-09-08 08:30:00"}""", "startTime")]
    [InlineData("""[1, 2]""", "execution input")]
    public void Bad_input_fails_with_a_message_naming_the_field(string json, string field)
    {
        var e = Assert.ThrowsAny<Exception>(() => Resolve(json));

        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Field_names_are_matched_regardless_of_case()
    {
        var night = Resolve("""{"StartDateTime": "2028-09-07 00:00:00", "enddatetime": "2028-09-08 08:30:00"}""");

        Assert.Equal("2028-09-08 08:30:00", night.GetProperty("endDateTime").GetString());
    }
}
