using System.Globalization;

namespace Rapid.Core.Jobs;

/// <summary>
/// The processing date: the night's date (yyyyMMdd) in the operations time zone
/// (default America/Los_Angeles, as the original database). Object keys start with it.
/// </summary>
public readonly record struct ProcessingDate
{
    public const string DefaultTimeZone = "America/Los_Angeles";

    public DateOnly Date { get; }

    public ProcessingDate(DateOnly date) => Date = date;

    public override string ToString() => Date.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static ProcessingDate Parse(string text) =>
        TryParse(text, out var date)
            ? date
            : throw new FormatException($"processing date '{text}' is not a date of the form yyyyMMdd (e.g. 20250404)");

    public static bool TryParse(string? text, out ProcessingDate date)
    {
        date = default;
        if (text is null || text.Length != 8 ||
            !DateOnly.TryParseExact(text, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
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
