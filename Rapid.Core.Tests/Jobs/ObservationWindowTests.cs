using Rapid.Core.Jobs;

namespace Rapid.Core.Tests.Jobs;

public class ObservationWindowTests
{
    private static readonly DateTime Start = new(2025, 4, 4, 12, 30, 15, DateTimeKind.Utc);

    [Theory]
    [InlineData("2025-04-04 12:30:15")]
    [InlineData("2025-04-04T12:30:15")]
    [InlineData("2025-04-04T12:30:15Z")]
    [InlineData("2025-04-04 12:30:15Z")]
    [InlineData("  2025-04-04 12:30:15  ")]
    [InlineData("2025-04-04 12:30:15.0")]
    [InlineData("2025-04-04T12:30:15.000000")]
    public void Start_times_in_every_accepted_form_mean_the_same_utc_instant(string text)
    {
        var t = ObservationWindow.ParseTime(text, "start");

        Assert.Equal(Start, t);
        Assert.Equal(DateTimeKind.Utc, t.Kind);
    }

    [Fact]
    public void Fractional_seconds_and_shorter_forms_are_read()
    {
        Assert.Equal(Start.AddMilliseconds(250), ObservationWindow.ParseTime("2025-04-04 12:30:15.25", "t"));
        Assert.Equal(new DateTime(2025, 4, 4, 12, 30, 0, DateTimeKind.Utc), ObservationWindow.ParseTime("2025-04-04 12:30", "t"));
        Assert.Equal(new DateTime(2025, 4, 4, 0, 0, 0, DateTimeKind.Utc), ObservationWindow.ParseTime("2025-04-04", "t"));
    }

    [Fact]
    public void Parse_makes_a_window_and_formats_it_half_open()
    {
        var w = ObservationWindow.Parse("2025-04-04 12:30:15", "2025-04-05T00:00:00Z");

        Assert.Equal(Start, w.Start);
        Assert.Equal(new DateTime(2025, 4, 5, 0, 0, 0, DateTimeKind.Utc), w.End);
        Assert.Equal("[2025-04-04 12:30:15, 2025-04-05 00:00:00)", w.ToString());
        Assert.Equal("2025-04-04 12:30:15", ObservationWindow.Format(w.Start));
    }

    [Theory]
    [InlineData("0001-01-01 00:00:00")]
    [InlineData("9999-12-31 23:59:59")]
    [InlineData("1989-12-31 23:59:59")]
    [InlineData("2200-01-01 00:00:01")]
    public void Times_outside_the_sane_range_are_rejected_naming_the_range(string text)
    {
        var e = Assert.Throws<FormatException>(() => ObservationWindow.ParseTime(text, "start"));

        Assert.Contains($"'{text}'", e.Message);
        Assert.Contains("1990-01-01 00:00:00 .. 2200-01-01 00:00:00", e.Message);
    }

    [Fact]
    public void A_one_second_window_is_accepted()
    {
        var w = ObservationWindow.Parse("2025-04-04 12:30:15", "2025-04-04 12:30:16");

        Assert.Equal(TimeSpan.FromSeconds(1), w.End - w.Start);
    }

    [Theory]
    [InlineData("2025-04-05 00:00:00", "2025-04-04 00:00:00")]
    [InlineData("2025-04-04 00:00:00", "2025-04-04 00:00:00")]
    [InlineData("2025-04-04T00:00:00Z", "2025-04-04")]
    public void Inverted_and_empty_windows_are_rejected_naming_both_ends(string start, string end)
    {
        var e = Assert.Throws<FormatException>(() => ObservationWindow.Parse(start, end));

        Assert.Contains("inverted or empty", e.Message);
        Assert.Contains($"'{start}'", e.Message);
        Assert.Contains($"'{end}'", e.Message);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("")]
    [InlineData("2025-02-30 00:00:00")]
    [InlineData("2025-04-04 25:00:00")]
    [InlineData("04/04/2025 12:00:00")]
    [InlineData("2025-04-04T12:00:00+02:00")]
    [InlineData("20250404")]
    public void Unparseable_start_is_rejected_naming_the_text(string text)
    {
        var e = Assert.Throws<FormatException>(() => ObservationWindow.Parse(text, "2030-01-01 00:00:00"));

        Assert.StartsWith($"start time '{text}' is not a date-time", e.Message);
    }

    [Fact]
    public void Unparseable_end_is_rejected_naming_the_text()
    {
        var e = Assert.Throws<FormatException>(() => ObservationWindow.Parse("2025-04-04 00:00:00", "2025-13-01 00:00:00"));

        Assert.StartsWith("end time '2025-13-01 00:00:00' is not a date-time", e.Message);
    }
}
