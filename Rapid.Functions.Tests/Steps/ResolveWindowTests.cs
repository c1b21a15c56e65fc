using Rapid.Functions.Steps;

namespace Rapid.Functions.Tests.Steps;

public sealed class ResolveWindowTests
{
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    // 2025-04-04 15:30 UTC is 08:30 PDT (UTC-7) on 2025-04-04, when the nightly schedule fires.
    private static readonly ResolveWindow Resolver = new(new FixedClock(new DateTimeOffset(2025, 4, 4, 15, 30, 0, TimeSpan.Zero)));

    [Fact]
    public void A_scheduled_request_ends_now_and_is_processed_under_today()
    {
        // The window ends when the run starts, not at noon: nothing observed before the run falls after its window
        // (the old noon-to-noon default left 08:30-12:00 to a window that was processed before those images existed).
        var r = Resolver.Resolve(new WindowRequest());

        Assert.True(r.Scheduled);
        Assert.Equal("20250404", r.ProcDate.ToString());
        Assert.Equal(new DateTime(2025, 4, 4, 15, 30, 0, DateTimeKind.Utc), r.Window.End);
        // Without a previous scheduled window (StartNight continues from it), the same local time a day earlier.
        Assert.Equal(new DateTime(2025, 4, 3, 15, 30, 0, DateTimeKind.Utc), r.Window.Start);
    }

    [Theory]
    // Spring forward on 2025-03-09: 08:30 PST on the 8th to 08:30 PDT on the 9th is 23 hours.
    [InlineData("2025-03-09T15:30:00Z", "2025-03-08T16:30:00Z")]
    // Fall back on 2025-11-02: 08:30 PDT on the 1st to 08:30 PST on the 2nd is 25 hours.
    [InlineData("2025-11-02T16:30:00Z", "2025-11-01T15:30:00Z")]
    public void The_first_scheduled_window_is_one_local_day_across_a_daylight_saving_change(string now, string expectedStart)
    {
        var r = new ResolveWindow(new FixedClock(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture))).Resolve(new WindowRequest());

        Assert.Equal(DateTimeOffset.Parse(expectedStart, System.Globalization.CultureInfo.InvariantCulture).UtcDateTime, r.Window.Start);
    }

    [Fact]
    public void Fractions_of_a_second_are_cut_so_consecutive_windows_meet_exactly()
    {
        var r = new ResolveWindow(new FixedClock(new DateTimeOffset(2025, 4, 4, 15, 30, 0, 999, TimeSpan.Zero))).Resolve(new WindowRequest());

        Assert.Equal(new DateTime(2025, 4, 4, 15, 30, 0, DateTimeKind.Utc), r.Window.End);
    }

    [Fact]
    public void Takes_an_explicit_window_and_processing_date()
    {
        var r = Resolver.Resolve(new WindowRequest("2028-09-07 00:00:00", "2028-09-08T08:30:00", "20250404"));
        Assert.False(r.Scheduled);
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
    [InlineData(null, null, "00010101", "outside 19900101..21991231")]
    [InlineData(null, null, "99991231", "outside 19900101..21991231")]
    [InlineData("0001-01-01 00:00:00", "2028-09-07 00:00:00", null, "outside")]
    public void Bad_input_is_one_line_naming_the_field(string? start, string? end, string? procDate, string named)
    {
        var e = Assert.Throws<FormatException>(() => Resolver.Resolve(new WindowRequest(start, end, procDate)));
        Assert.Contains(named, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
