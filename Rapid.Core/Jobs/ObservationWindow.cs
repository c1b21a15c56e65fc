using System.Globalization;

namespace Rapid.Core.Jobs;

/// <summary>
/// A half-open window [Start, End) of observation times (UTC, as DATE-OBS), which selects the
/// L2 images a night processes. Text form: "yyyy-MM-dd HH:mm:ss" (also ISO 8601 with a 'T'). Parsed times
/// lie in [<see cref="Earliest"/>, <see cref="Latest"/>]: the calendar's extremes would reach PostgreSQL as ±infinity.
/// </summary>
public readonly record struct ObservationWindow(DateTime Start, DateTime End)
{
    private static readonly string[] Formats =
        ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"];

    public static readonly DateTime Earliest = new(1990, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    public static readonly DateTime Latest = new(2200, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static ObservationWindow Parse(string start, string end)
    {
        var s = ParseTime(start, "start");
        var e = ParseTime(end, "end");
        if (e <= s)
            throw new FormatException($"observation window is inverted or empty: end '{end}' is not after start '{start}'");
        return new ObservationWindow(s, e);
    }

    public static DateTime ParseTime(string text, string what)
    {
        var trimmed = text.Trim().TrimEnd('Z');
        if (!DateTime.TryParseExact(trimmed, Formats, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
            throw new FormatException($"{what} time '{text}' is not a date-time of the form \"yyyy-MM-dd HH:mm:ss\"");
        t = DateTime.SpecifyKind(t, DateTimeKind.Utc);
        if (t < Earliest || t > Latest)
            throw new FormatException($"{what} time '{text}' is outside {Format(Earliest)} .. {Format(Latest)}");
        return t;
    }

    public static string Format(DateTime t) => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public override string ToString() => $"[{Format(Start)}, {Format(End)})";
}
