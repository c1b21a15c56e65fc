using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Rapid.Functions.Report.Html;

/// <summary>Escaping and formatting for the report's HTML: every text from the database or a log goes through <see cref="E"/>.</summary>
internal static class HtmlText
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    public static string N(long value) => value.ToString("N0", Inv);

    public static string F(double? value, string format = "0.00") => value is double v && double.IsFinite(v) ? v.ToString(format, Inv) : "–";

    public static string Percent(double? fraction, string format = "0.0") => fraction is double f && double.IsFinite(f) ? (100 * f).ToString(format, Inv) + " %" : "–";

    /// <summary>The value for a sortable cell's data-v (empty when missing).</summary>
    public static string V(double? value) => value is double v && double.IsFinite(v) ? v.ToString("R", Inv) : "";

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 40 => F(bytes / (double)(1L << 40), "0.00") + " TiB",
        >= 1L << 30 => F(bytes / (double)(1L << 30), "0.00") + " GiB",
        >= 1L << 20 => F(bytes / (double)(1L << 20), "0.0") + " MiB",
        >= 1L << 10 => F(bytes / (double)(1L << 10), "0.0") + " KiB",
        _ => bytes.ToString(Inv) + " B",
    };

    public static string Duration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours} h {t.Minutes:00} min" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes} min {t.Seconds:00} s" : F(t.TotalSeconds, "0.0") + " s";

    public static string Time(DateTimeOffset? t) => t is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Inv) + " UTC" : "–";

    public static string PngDataUri(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);

    /// <summary>A JSON value gzip-compressed and base64-encoded, for a data block the page's script decodes.</summary>
    public static string CompressedJson<T>(T value)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
            JsonSerializer.Serialize(gzip, value, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });
        return Convert.ToBase64String(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public static string Resource(string name)
    {
        using var stream = typeof(HtmlText).Assembly.GetManifestResourceStream($"Rapid.Functions.Report.Html.{name}")
            ?? throw new InvalidOperationException($"the report's embedded {name} is missing from the assembly");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
