using Rapid.Functions.Steps;

namespace Rapid.Functions.Tests.Steps;

public sealed class ResolveWindowTests
{
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    // 2025-04-04 15:30 UTC is 08:30 PDT (UTC-7) on 2025-04-04.
    private static readonly ResolveWindow Resolver = new(new FixedClock(new DateTimeOffset(2025, 4, 4, 15, 30, 0, TimeSpan.Zero)));

    [Fact]
    public void Defaults_to_last_night_in_los_angeles_processed_under_today()
    {
        var r = Resolver.Resolve(new WindowRequest());
        Assert.Equal("20250404", r.ProcDate.ToString());
        Assert.Equal(new DateTime(2025, 4, 3, 19, 0, 0, DateTimeKind.Utc), r.Window.Start); // noon PDT
        Assert.Equal(new DateTime(2025, 4, 4, 19, 0, 0, DateTimeKind.Utc), r.Window.End);
    }

    [Fact]
    public void Takes_an_explicit_window_and_processing_date()
    {
        var r = Resolver.Resolve(new WindowRequest("2028-09-07 00:00:00", "2028-09-08T08:30:00", "20250404"));
        Assert.Equal(new DateTime(2028, 9, 7, 0, 0, 0, DateTimeKind.Utc), r.Window.Start);
        Assert.Equal(new DateTime(2028, 9, 8, 8, 30, 0, DateTimeKind.Utc), r.Window.End);
        Assert.Equal("20250404", r.ProcDate.ToString());
    }

    [Theory]
    [InlineData("2028-09-08 00:00:00", "2028-09-07 00:00:00", null, "inverted")]
    [InlineData("yesterday", "2028-09-07 00:00:00", null, "startDateTime")]
    [InlineData("2028-09-07 00:00:00", "2028-13-45", null, "endDateTime")]
    [InlineData("2028-09-07 00:00:00", null, null, "endDateTime is missing")]
    [InlineData(null, null, "2025-04-04", "procDate")]
    public void Bad_input_is_one_line_naming_the_field(string? start, string? end, string? procDate, string named)
    {
        var e = Assert.Throws<FormatException>(() => Resolver.Resolve(new WindowRequest(start, end, procDate)));
        Assert.Contains(named, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
