using ScottPlot;
using SkiaSharp;

namespace Rapid.Functions.Report.Plots;

/// <summary>
/// Plots' text in DejaVu Sans read from this assembly (DejaVuSans.LICENSE.txt beside it), whatever fonts the machine has:
/// the Summarize λ's runtime has none, and a plot without text is no plot.
/// </summary>
internal sealed class EmbeddedFont : IFontResolver
{
    public const string Family = "DejaVu Sans";

    private static readonly Lock Gate = new();
    private static bool _installed;
    private readonly SKTypeface _typeface;

    private EmbeddedFont(SKTypeface typeface) => _typeface = typeface;

    /// <summary>Makes the embedded font ScottPlot's first choice and default (ScottPlot's font settings are process-wide).</summary>
    public static void Install()
    {
        lock (Gate)
        {
            if (_installed) return;
            using var stream = typeof(EmbeddedFont).Assembly.GetManifestResourceStream("Rapid.Functions.Report.Plots.DejaVuSans.ttf")
                ?? throw new InvalidOperationException("the report's embedded font DejaVuSans.ttf is missing from the assembly");
            var typeface = SKTypeface.FromStream(stream) ?? throw new InvalidOperationException("the report's embedded font DejaVuSans.ttf cannot be read");
            Fonts.FontResolvers.Insert(0, new EmbeddedFont(typeface));
            Fonts.Default = Family;
            Fonts.Sans = Family;
            _installed = true;
        }
    }

    public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing width) =>
        fontName == Family ? _typeface : null;

    public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) => fontName == Family ? _typeface : null;
}
