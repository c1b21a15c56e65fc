using System.Globalization;

namespace Rapid.Pipeline.Fits;

/// <summary>A header value the pipeline needs is missing or unusable; Keyword names the card, the message says what is wrong.</summary>
public sealed class HeaderKeywordException(string source, string keyword, string problem)
    : Exception($"{source}: {keyword} {problem}")
{
    public string Keyword { get; } = keyword;
}

/// <summary>A value read from a header and the keyword it came from (null Keyword: the setting's default was used).</summary>
public readonly record struct KeywordValue(double Value, string? Keyword);

/// <summary>
/// The names under which surveys write the observation time and the detector's calibration, in the order they are
/// tried: the one place these conventions are declared. Observation time: MJD-OBS (FITS Standard 4.0, section 9.2),
/// else DATE-OBS (ISO-8601, in the TIMESYS scale, UTC when absent) turned into an MJD, else a named alternative
/// (OBSMJD as ZTF writes it, MJD_OBS, EXPSTART as HST writes it). Saturation (DN): SATURATE (SExtractor's
/// SATUR_KEY default), SATURVAL, SATLEVEL. Gain (e-/DN): GAIN, EGAIN. Read noise (DN): RDNOISE, READNOI, READNOIS.
/// A keyword that is present but not a usable number is an error naming it, never silently replaced by a default.
/// </summary>
public static class DetectorKeywords
{
    public static readonly string[] Saturation = ["SATURATE", "SATURVAL", "SATLEVEL"];
    public static readonly string[] Gain = ["GAIN", "EGAIN"];
    public static readonly string[] ReadNoise = ["RDNOISE", "READNOI", "READNOIS"];
    /// <summary>Keywords holding the observation time as an MJD, after MJD-OBS and DATE-OBS.</summary>
    public static readonly string[] MjdAlternatives = ["OBSMJD", "MJD_OBS", "EXPSTART"];
    /// <summary>Time scales DATE-OBS may be given in (TIMESYS); MJD-OBS is then in the same scale, as the standard says.</summary>
    public static readonly string[] TimeScales = ["UTC", "TAI", "TT", "TDB", "GPS", "UT1", "UT"];

    private const double UnixEpochMjd = 40587.0;

    /// <summary>The first of <paramref name="names"/> present, which must be a finite number within the range; else the default.</summary>
    public static KeywordValue Number(FitsHeader header, IReadOnlyList<string> names, double fallback, string source, double min = double.NegativeInfinity, bool minExclusive = false)
    {
        ArgumentNullException.ThrowIfNull(header);
        foreach (var name in names)
        {
            if (!header.Contains(name) || header.Find(name)?.Value is null) continue;
            double? value;
            try { value = header.GetDouble(name); }
            catch (FormatException) { throw new HeaderKeywordException(source, name, $"= {header.Find(name)!.Value} is not a number"); }
            var v = value!.Value;
            if (!double.IsFinite(v) || v < min || (minExclusive && v == min))
                throw new HeaderKeywordException(source, name, $"= {v.ToString("G6", CultureInfo.InvariantCulture)} is not usable (must be {(minExclusive ? ">" : ">=")} {min.ToString(CultureInfo.InvariantCulture)})");
            return new KeywordValue(v, name);
        }
        return new KeywordValue(fallback, null);
    }

    /// <summary>The observation time (MJD) and where it came from; <see cref="HeaderKeywordException"/> when there is none or it is unreadable.</summary>
    public static KeywordValue ObservationMjd(FitsHeader header, string source)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (header.Contains("MJD-OBS") && header.Find("MJD-OBS")?.Value is not null)
            return Number(header, ["MJD-OBS"], double.NaN, source);
        if (header.GetString("DATE-OBS") is { } dateText && dateText.Trim().Length > 0)
        {
            var scale = header.GetString("TIMESYS")?.Trim().ToUpperInvariant();
            if (scale is not null && !TimeScales.Contains(scale))
                throw new HeaderKeywordException(source, "TIMESYS", $"= '{scale}' is not a time scale this pipeline knows ({string.Join(", ", TimeScales)})");
            return new KeywordValue(MjdOfIsoDate(dateText.Trim(), source), "DATE-OBS");
        }
        foreach (var name in MjdAlternatives)
        {
            if (header.Contains(name) && header.Find(name)?.Value is not null) return Number(header, [name], double.NaN, source);
        }
        throw new HeaderKeywordException(source, "MJD-OBS", $"is missing, and so are DATE-OBS and {string.Join(", ", MjdAlternatives)} (no observation time)");
    }

    /// <summary>The MJD of an ISO-8601 date (yyyy-mm-dd or yyyy-mm-ddThh:mm:ss[.sss], no zone: the header's time scale).</summary>
    public static double MjdOfIsoDate(string text, string source)
    {
        string[] formats = ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss.FFFFFFF"];
        if (!DateTime.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date))
            throw new HeaderKeywordException(source, "DATE-OBS", $"= '{text}' is not an ISO-8601 date (yyyy-mm-ddThh:mm:ss)");
        return UnixEpochMjd + (date - DateTime.UnixEpoch).TotalDays;
    }
}
