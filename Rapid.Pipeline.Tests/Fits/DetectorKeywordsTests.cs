using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Tests.Fits;

/// <summary>Observation time and detector calibration under the names surveys write them, and one-line errors naming the keyword.</summary>
public class DetectorKeywordsTests
{
    private static FitsHeader Header(params (string Key, object Value)[] cards)
    {
        var h = new FitsHeader();
        foreach (var (key, value) in cards)
        {
            switch (value)
            {
                case string s: h.Set(key, s); break;
                case double d: h.Set(key, d); break;
                default: h.SetRaw(key, value.ToString()!, null); break;
            }
        }
        return h;
    }

    [Fact]
    public void Mjd_obs_comes_first()
    {
        var mjd = DetectorKeywords.ObservationMjd(Header(("MJD-OBS", 61650.25), ("DATE-OBS", "2000-01-01T12:00:00"), ("OBSMJD", 1.0)), "f.fits");
        Assert.Equal(new KeywordValue(61650.25, "MJD-OBS"), mjd);
    }

    [Theory]
    [InlineData("2000-01-01T12:00:00", 51544.5)]        // J2000.0
    [InlineData("2000-01-01T12:00:00.500", 51544.5 + 0.5 / 86400)]
    [InlineData("2028-09-07", 62021.0)]
    public void Date_obs_in_iso_8601_gives_the_mjd(string date, double expected)
    {
        var mjd = DetectorKeywords.ObservationMjd(Header(("DATE-OBS", date), ("TIMESYS", "UTC"), ("OBSMJD", 1.0)), "f.fits");
        Assert.Equal("DATE-OBS", mjd.Keyword);
        Assert.Equal(expected, mjd.Value, 9);
    }

    [Fact]
    public void A_named_alternative_serves_when_neither_standard_keyword_is_there()
    {
        Assert.Equal(new KeywordValue(61000.5, "OBSMJD"), DetectorKeywords.ObservationMjd(Header(("OBSMJD", 61000.5)), "f.fits"));
    }

    [Theory]
    [InlineData("MJD-OBS", "'soon'", "MJD-OBS = 'soon' is not a number")]
    [InlineData("DATE-OBS", "'07/09/28'", "DATE-OBS = '07/09/28' is not an ISO-8601 date")]
    [InlineData("OBSMJD", "'x'", "OBSMJD = 'x' is not a number")]
    public void An_unreadable_time_is_named(string key, string raw, string message)
    {
        var h = new FitsHeader();
        h.SetRaw(key, raw, null);
        var e = Assert.Throws<HeaderKeywordException>(() => DetectorKeywords.ObservationMjd(h, "sci.fits"));
        Assert.Equal(key, e.Keyword);
        Assert.StartsWith("sci.fits: " + message, e.Message);
    }

    [Fact]
    public void No_time_at_all_names_mjd_obs_and_the_alternatives()
    {
        var e = Assert.Throws<HeaderKeywordException>(() => DetectorKeywords.ObservationMjd(new FitsHeader(), "sci.fits"));
        Assert.Equal("sci.fits: MJD-OBS is missing, and so are DATE-OBS and OBSMJD, MJD_OBS, EXPSTART (no observation time)", e.Message);
    }

    [Fact]
    public void An_unknown_time_scale_is_named()
    {
        var e = Assert.Throws<HeaderKeywordException>(() => DetectorKeywords.ObservationMjd(Header(("DATE-OBS", "2028-09-07"), ("TIMESYS", "MARS")), "sci.fits"));
        Assert.Equal("TIMESYS", e.Keyword);
    }

    [Theory]
    [InlineData("SATURATE")]
    [InlineData("SATURVAL")]
    [InlineData("SATLEVEL")]
    public void Saturation_is_read_under_each_common_name(string key)
    {
        Assert.Equal(new KeywordValue(54321, key), DetectorKeywords.Number(Header((key, 54321.0)), DetectorKeywords.Saturation, 1e5, "f"));
    }

    [Theory]
    [InlineData("GAIN", "RDNOISE")]
    [InlineData("EGAIN", "READNOI")]
    [InlineData("GAIN", "READNOIS")]
    public void Gain_and_read_noise_are_read_under_each_common_name(string gain, string readNoise)
    {
        var h = Header((gain, 2.5), (readNoise, 4.0));
        Assert.Equal(new KeywordValue(2.5, gain), DetectorKeywords.Number(h, DetectorKeywords.Gain, 1, "f", 0, minExclusive: true));
        Assert.Equal(new KeywordValue(4.0, readNoise), DetectorKeywords.Number(h, DetectorKeywords.ReadNoise, 8.5, "f", 0));
    }

    [Fact]
    public void Absent_keywords_give_the_setting()
    {
        Assert.Equal(new KeywordValue(8.5, null), DetectorKeywords.Number(new FitsHeader(), DetectorKeywords.ReadNoise, 8.5, "f", 0));
    }

    [Theory]
    [InlineData("-2", "GAIN = -2 is not usable (must be > 0)")]
    [InlineData("0", "GAIN = 0 is not usable (must be > 0)")]
    [InlineData("'high'", "GAIN = 'high' is not a number")]
    public void An_unusable_calibration_value_is_named_not_replaced_by_the_default(string raw, string message)
    {
        var h = new FitsHeader();
        h.SetRaw("GAIN", raw, null);
        var e = Assert.Throws<HeaderKeywordException>(() => DetectorKeywords.Number(h, DetectorKeywords.Gain, 1, "sci.fits", 0, minExclusive: true));
        Assert.Equal("sci.fits: " + message, e.Message);
    }
}
