using System.Globalization;

namespace Rapid.Core.Jobs;

/// <summary>
/// The processing date: the night's date (yyyyMMdd) in the operations time zone
/// (default America/Los_Angeles, as the original database). Object keys start with it. Parsed dates lie in
/// [<see cref="Earliest"/>, <see cref="Latest"/>]: outside it a date is a typo, and the extremes of the
/// calendar (00010101, 99991231) would reach PostgreSQL as -infinity / +infinity.
/// </summary>
public readonly record struct ProcessingDate
{
    public const string DefaultTimeZone = "America/Los_Angeles";

    /// <summary>The earliest processing date accepted as input.</summary>
    public static readonly DateOnly Earliest = new(1990, 1, 1);

    /// <summary>The latest processing date accepted as input.</summary>
    public static readonly DateOnly Latest = new(2199, 12, 31);

    public DateOnly Date { get; }

    public ProcessingDate(DateOnly date) => Date = date;

    public override string ToString() => Date.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static ProcessingDate Parse(string text) =>
        TryParse(text, out var date) ? date : throw new FormatException(Problem(text, "processing date"));

    /// <summary>Why <paramref name="text"/> is not a processing date, as one line naming <paramref name="what"/>.</summary>
    public static string Problem(string? text, string what) =>
        DateOnly.TryParseExact(text, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) && !InRange(d)
            ? $"{what} '{text}' is outside {Earliest:yyyyMMdd}..{Latest:yyyyMMdd}"
            : $"{what} '{text}' is not a date of the form yyyyMMdd (e.g. 20250404)";

    private static bool InRange(DateOnly d) => d >= Earliest && d <= Latest;

    public static bool TryParse(string? text, out ProcessingDate date)
    {
        date = default;
        if (text is null || text.Length != 8 ||
            !DateOnly.TryParseExact(text, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) || !InRange(d))
            return false;
        date = new ProcessingDate(d);
        return true;
    }

    /// <summary>The processing date of an instant in the given IANA time zone.</summary>
    public static ProcessingDate At(DateTimeOffset instant, string timeZone = DefaultTimeZone)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(timeZone);
        return new ProcessingDate(DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime));
    }
}
