using System.Globalization;
using System.Text;

namespace Rapid.Pipeline.Fits;

/// <summary>
/// Converts between .NET values and FITS header value text (FITS Standard 4.0, section 4.2):
/// strings in single quotes with '' as the escaped quote, logicals T/F, integers, reals with a
/// decimal point or exponent (a D exponent is accepted on reading).
/// </summary>
internal static class FitsValueText
{
    public static string Quote(string text) => "'" + text.Replace("'", "''") + "'";

    /// <summary>The string inside the quotes, without trailing blanks (they are not significant in FITS).</summary>
    public static string? Unquote(string? value)
    {
        if (value is null) return null;
        if (value.Length < 2 || value[0] != '\'' || value[^1] != '\'') return value;
        return value[1..^1].Replace("''", "'").TrimEnd(' ');
    }

    public static bool IsQuoted(string value) => value.Length >= 2 && value[0] == '\'' && value[^1] == '\'';

    public static string FormatDouble(double value)
    {
        if (!double.IsFinite(value))
            throw new ArgumentException($"a FITS header cannot hold the non-finite value {value}");
        // Shortest text that round-trips; FITS reals need a decimal point (or an exponent with one).
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        if (text.Contains('.')) return text;
        var e = text.IndexOf('E');
        return e < 0 ? text + ".0" : text[..e] + ".0" + text[e..];
    }

    public static string FormatLong(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string FormatBool(bool value) => value ? "T" : "F";

    public static bool TryParseDouble(string text, out double value) =>
        double.TryParse(text.Replace('D', 'E').Replace('d', 'e'), NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    public static bool TryParseLong(string text, out long value)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value)) return true;
        // Some writers put integral values in real notation (e.g. "2.0").
        if (TryParseDouble(text, out var d) && d == Math.Floor(d) && Math.Abs(d) < 9.0e15)
        {
            value = (long)d;
            return true;
        }
        return false;
    }

    /// <summary>Checks that text is printable ASCII (the only characters a FITS header may hold).</summary>
    public static void RequirePrintableAscii(string text, string what)
    {
        foreach (var c in text)
        {
            if (c < ' ' || c > '~')
                throw new ArgumentException($"{what} contains a character that a FITS header cannot hold (U+{(int)c:X4}); only printable ASCII is allowed");
        }
    }

    /// <summary>
    /// Keyword names: up to 8 of A-Z 0-9 - _ ; longer names, or names with blanks, use the ESO HIERARCH convention
    /// (as astropy does: "ESO DET GAIN" and "HIERARCH ESO DET GAIN" name the same card).
    /// </summary>
    public static string NormalizeKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var k = key.Trim().ToUpperInvariant();
        if (k.StartsWith("HIERARCH ", StringComparison.Ordinal)) k = k["HIERARCH ".Length..].Trim();
        if (k.Length == 0) throw new ArgumentException("an empty FITS keyword name");
        var hierarch = k.Length > 8 || k.Contains(' ');
        foreach (var c in k)
        {
            var ok = c is >= 'A' and <= 'Z' or >= '0' and <= '9' or '-' or '_' || (hierarch && c == ' ');
            if (!ok) throw new ArgumentException($"FITS keyword '{key}' may only contain A-Z, 0-9, '-' and '_'");
        }
        return hierarch ? "HIERARCH " + string.Join(' ', k.Split(' ', StringSplitOptions.RemoveEmptyEntries)) : k;
    }

    internal static StringBuilder PadRight(StringBuilder sb, int length)
    {
        if (sb.Length < length) sb.Append(' ', length - sb.Length);
        return sb;
    }
}
