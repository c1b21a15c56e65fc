namespace Rapid.Pipeline.Simulation;

/// <summary>
/// An approximate layout of the Roman WFI's 18 SCAs: 6 columns × 3 rows of 4088² detectors, centres 8.3' apart
/// across columns and 8.0' apart up rows, with the outer columns raised 2.6' and the next ones 0.9' to follow
/// the WFI's arc. The arrangement and spacing follow the published WFI focal-plane figure (about 0.8° × 0.4°);
/// the numbers are rounded, not the measured SIAF positions. SCAs are numbered up each column (1–3 in the
/// leftmost column, 16–18 in the rightmost). Offsets are in arcminutes along the image x and y axes of the
/// exposure (so they rotate with the position angle).
/// </summary>
public static class RomanFocalPlane
{
    public const int ScaCount = 18;
    private const double ColumnPitchArcmin = 8.3;
    private const double RowPitchArcmin = 8.0;
    private static readonly double[] ColumnRaiseArcmin = [2.6, 0.9, 0, 0, 0.9, 2.6];

    /// <summary>Centre of an SCA relative to the focal-plane centre (arcmin along image x, y).</summary>
    public static (double X, double Y) ScaCentreArcmin(int sca)
    {
        if (sca < 1 || sca > ScaCount) throw new ArgumentException($"SCA {sca} is not a Roman SCA (1..{ScaCount})");
        var column = (sca - 1) / 3;
        var row = (sca - 1) % 3;
        return ((column - 2.5) * ColumnPitchArcmin, (row - 1) * RowPitchArcmin + ColumnRaiseArcmin[column]);
    }

    /// <summary>
    /// The offsets of the chosen SCAs relative to their own centroid (arcmin), so a single SCA sits on the field
    /// centre and a set of SCAs is centred on it.
    /// </summary>
    public static IReadOnlyDictionary<int, (double X, double Y)> CentredOffsetsArcmin(IReadOnlyList<int> scas)
    {
        var centres = scas.ToDictionary(s => s, ScaCentreArcmin);
        var mx = centres.Values.Average(c => c.X);
        var my = centres.Values.Average(c => c.Y);
        return centres.ToDictionary(kv => kv.Key, kv => (kv.Value.X - mx, kv.Value.Y - my));
    }

    /// <summary>Standard coordinates (ξ east, η north; radians) of an offset along image (x, y) for an exposure at position angle paDeg.</summary>
    public static (double Xi, double Eta) ToStandard(double xArcmin, double yArcmin, double paDeg)
    {
        var pa = paDeg * Math.PI / 180;
        var (c, s) = (Math.Cos(pa), Math.Sin(pa));
        var toRad = Math.PI / 180 / 60;
        // Image +x points to PA + 270° (west at PA 0), image +y to PA (see SimulatedWcs.Create).
        return ((-xArcmin * c + yArcmin * s) * toRad, (xArcmin * s + yArcmin * c) * toRad);
    }
}
