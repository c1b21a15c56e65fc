using System.Text;
using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// FLAGS bits of the difference catalog. <see cref="CatalogFlagRegistry"/> describes each one; it is the only place
/// their meaning is written down, and the catalog header (FLAGBITn) and the documentation are generated from it.
/// </summary>
[Flags]
public enum DifferenceSourceFlags
{
    None = 0,
    /// <summary>The PSF fit box was cut by the image edge or masked pixels.</summary>
    Truncated = 1,
    /// <summary>Within a few PSF widths of a saturated science pixel: residuals of saturated stars are likely.</summary>
    NearSaturated = 2,
    /// <summary>The reference covers the source with fewer than 3 frames, or a coverage edge runs through its fit box.</summary>
    LowCoverage = 4,
    /// <summary>A bright star's residual, not the background, dominates the variance at the source.</summary>
    BrightStarResidual = 8,
    /// <summary>The PSF fit's reduced chi-square is poor: not point-like on D (cosmic ray, artefact, extended residual).</summary>
    PoorFit = 16,
    /// <summary>A significant lobe of the opposite sign lies next to the source (misregistration or a moving object).</summary>
    Dipole = 32,
}

/// <summary>One FLAGS bit: its value, its name and what it means.</summary>
public sealed record CatalogFlagBit(DifferenceSourceFlags Flag, int Bit, string Name, string Meaning);

/// <summary>
/// The registry of FLAGS bits (as photutils and SExtractor document theirs): written into every catalog's header as
/// FLAGBITn = 'NAME: meaning' and into the documentation by <see cref="Markdown"/>.
/// </summary>
public static class CatalogFlagRegistry
{
    public static readonly IReadOnlyList<CatalogFlagBit> Bits =
    [
        new(DifferenceSourceFlags.Truncated, 0, "TRUNCATED", "the PSF fit box is cut by the image edge or masked pixels"),
        new(DifferenceSourceFlags.NearSaturated, 1, "NEAR_SATURATED", "within a few PSF widths of a saturated science pixel"),
        new(DifferenceSourceFlags.LowCoverage, 2, "LOW_COVERAGE", "the reference covers the source with fewer than 3 frames, or a coverage edge crosses its fit box"),
        new(DifferenceSourceFlags.BrightStarResidual, 3, "BRIGHT_STAR", "a bright star's residual dominates the variance at the source"),
        new(DifferenceSourceFlags.PoorFit, 4, "POOR_FIT", "the PSF fit's reduced chi-square is poor (not point-like on D)"),
        new(DifferenceSourceFlags.Dipole, 5, "DIPOLE", "a significant lobe of the opposite sign lies next to the source"),
    ];

    /// <summary>FLAGBITn keywords describing every bit.</summary>
    public static void WriteTo(FitsHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        foreach (var b in Bits) header.Set($"FLAGBIT{b.Bit}", $"{b.Name}: {b.Meaning}", $"FLAGS & {1 << b.Bit}");
    }

    /// <summary>The registry as a Markdown table (docs/catalog.md is generated from it).</summary>
    public static string Markdown()
    {
        var sb = new StringBuilder("| bit | value | name | meaning |\n|---|---|---|---|\n");
        foreach (var b in Bits) sb.Append($"| {b.Bit} | {1 << b.Bit} | `{b.Name}` | {b.Meaning} |\n");
        return sb.ToString();
    }
}
