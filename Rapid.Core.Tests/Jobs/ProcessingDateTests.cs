using Rapid.Core.Jobs;

namespace Rapid.Core.Tests.Jobs;

public class ProcessingDateTests
{
    [Theory]
    [InlineData("20250404", 2025, 4, 4)]
    [InlineData("20240229", 2024, 2, 29)]
    [InlineData("19991231", 1999, 12, 31)]
    public void Parse_reads_yyyyMMdd_and_formats_back(string text, int y, int m, int d)
    {
        var date = ProcessingDate.Parse(text);

        Assert.Equal(new DateOnly(y, m, d), date.Date);
        Assert.Equal(text, date.ToString());
        Assert.True(ProcessingDate.TryParse(text, out var again));
        Assert.Equal(date, again);
    }

    [Theory]
    [InlineData("")]
    [InlineData("2025044")]
    [InlineData("202504040")]
    [InlineData("2025-04-04")]
    [InlineData("2025-4-4")]
    [InlineData("20250230")]
    [InlineData("20250229")]
    [InlineData("20251301")]
    [InlineData("20250400")]
    [InlineData("abcdefgh")]
    [InlineData(" 2025040")]
    public void Parse_rejects_text_that_is_not_a_real_yyyyMMdd_date_naming_it(string text)
    {
        var e = Assert.Throws<FormatException>(() => ProcessingDate.Parse(text));

        Assert.Contains($"'{text}'", e.Message);
        Assert.Contains("yyyyMMdd", e.Message);
        Assert.False(ProcessingDate.TryParse(text, out var date));
        Assert.Equal(default, date);
    }

    [Theory]
    [InlineData("00010101")]
    [InlineData("99991231")]
    [InlineData("19891231")]
    [InlineData("22000101")]
    public void Dates_outside_the_sane_range_are_rejected_naming_the_range(string text)
    {
        // 00010101 and 99991231 used to reach PostgreSQL as -infinity and +infinity.
        var e = Assert.Throws<FormatException>(() => ProcessingDate.Parse(text));

        Assert.Contains($"'{text}'", e.Message);
        Assert.Contains("19900101..21991231", e.Message);
        Assert.False(ProcessingDate.TryParse(text, out _));
    }

    [Theory]
    [InlineData("19900101")]
    [InlineData("21991231")]
    public void The_ends_of_the_range_are_accepted(string text) => Assert.Equal(text, ProcessingDate.Parse(text).ToString());

    [Fact]
    public void TryParse_rejects_null() => Assert.False(ProcessingDate.TryParse(null, out _));

    [Theory]
    // Pacific daylight time (UTC-7): the night of the 4th runs until 07:00 UTC on the 5th.
    [InlineData("2025-04-04T18:00:00Z", "20250404")]
    [InlineData("2025-04-05T00:30:00Z", "20250404")]
    [InlineData("2025-04-05T06:59:59Z", "20250404")]
    [InlineData("2025-04-05T07:00:00Z", "20250405")]
    // Pacific standard time (UTC-8).
    [InlineData("2025-01-15T07:59:59Z", "20250114")]
    [InlineData("2025-01-15T08:00:00Z", "20250115")]
    // New Year in UTC is still the old year in Los Angeles.
    [InlineData("2026-01-01T00:00:00Z", "20251231")]
    // Spring forward on 2025-03-09 at 10:00 UTC (02:00 PST -> 03:00 PDT).
    [InlineData("2025-03-09T07:59:59Z", "20250308")]
    [InlineData("2025-03-09T08:00:00Z", "20250309")]
    [InlineData("2025-03-10T06:59:59Z", "20250309")]
    [InlineData("2025-03-10T07:00:00Z", "20250310")]
    // Fall back on 2025-11-02 at 09:00 UTC (02:00 PDT -> 01:00 PST).
    [InlineData("2025-11-02T06:59:59Z", "20251101")]
    [InlineData("2025-11-02T07:00:00Z", "20251102")]
    [InlineData("2025-11-03T07:59:59Z", "20251102")]
    [InlineData("2025-11-03T08:00:00Z", "20251103")]
    public void At_gives_the_date_in_Los_Angeles(string instant, string expected) =>
        Assert.Equal(expected, ProcessingDate.At(DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture)).ToString());

    [Fact]
    public void At_depends_on_the_instant_not_on_the_offset_it_is_written_in()
    {
        var utc = new DateTimeOffset(2025, 4, 5, 6, 30, 0, TimeSpan.Zero);
        var tokyo = utc.ToOffset(TimeSpan.FromHours(9));

        Assert.Equal(ProcessingDate.At(utc), ProcessingDate.At(tokyo));
        Assert.Equal("20250404", ProcessingDate.At(tokyo).ToString());
    }

    [Fact]
    public void At_takes_another_time_zone()
    {
        var instant = new DateTimeOffset(2025, 4, 4, 23, 30, 0, TimeSpan.Zero);

        Assert.Equal("20250404", ProcessingDate.At(instant, "UTC").ToString());
        Assert.Equal("20250405", ProcessingDate.At(instant, "Europe/Berlin").ToString());
        Assert.Equal("20250404", ProcessingDate.At(instant).ToString());
    }

    [Fact]
    public void An_unknown_time_zone_is_named()
    {
        var e = Assert.Throws<TimeZoneNotFoundException>(() => ProcessingDate.At(DateTimeOffset.UnixEpoch, "Mars/Olympus_Mons"));

        Assert.Contains("Mars/Olympus_Mons", e.Message);
    }
}
