using System.Text.Json;
using Rapid.Functions.Lambda;

namespace Rapid.Functions.Tests.Lambda;

public sealed class ResolveWindowHandlerTests
{
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    // 08:00 on 8 September 2028 in Los Angeles (PDT, UTC-7).
    private static readonly DateTimeOffset Morning = new(2028, 9, 8, 15, 0, 0, TimeSpan.Zero);

    private static JsonElement Resolve(string json, string timeZone = "America/Los_Angeles")
    {
        var handler = new ResolveWindowHandler(name => name == "RAPID_TIME_ZONE" ? timeZone : null, new FixedClock(Morning));
        return JsonDocument.Parse(HandlerHost.Invoke(handler.Handle, json)).RootElement;
    }

    [Fact]
    public void An_empty_input_is_last_night_in_the_operations_time_zone()
    {
        var night = Resolve("{}");

        Assert.Equal("2028-09-07 19:00:00", night.GetProperty("startDateTime").GetString());
        Assert.Equal("2028-09-08 19:00:00", night.GetProperty("endDateTime").GetString());
        Assert.Equal("20280908", night.GetProperty("procDate").GetString());
        Assert.False(night.GetProperty("force").GetBoolean());
    }

    [Fact]
    public void The_time_zone_comes_from_the_environment()
    {
        var night = Resolve("{}", "UTC");

        Assert.Equal("2028-09-07 12:00:00", night.GetProperty("startDateTime").GetString());
        Assert.Equal("2028-09-08 12:00:00", night.GetProperty("endDateTime").GetString());
    }

    [Fact]
    public void A_full_input_is_kept_as_given()
    {
        var night = Resolve("""{"startDateTime": "2028-09-07 00:00:00", "endDateTime": "2028-09-08 08:30:00", "procDate": "20280910", "force": true}""");

        Assert.Equal("2028-09-07 00:00:00", night.GetProperty("startDateTime").GetString());
        Assert.Equal("2028-09-08 08:30:00", night.GetProperty("endDateTime").GetString());
        Assert.Equal("20280910", night.GetProperty("procDate").GetString());
        Assert.True(night.GetProperty("force").GetBoolean());
    }

    [Theory]
    [InlineData("""{"startDateTime": "2028-09-07 00:00:00"}""", "endDateTime")]
    [InlineData("""{"startDateTime": "yesterday", "endDateTime": "2028-09-08 08:30:00"}""", "startDateTime")]
    [InlineData("""{"procDate": "2028-09-08"}""", "procDate")]
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
