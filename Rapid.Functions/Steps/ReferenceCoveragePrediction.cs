using Rapid.Core.Contracts;

namespace Rapid.Functions.Steps;

/// <summary>
/// Predicts the 5th percentile of a reference image's coverage map (the original's cov5percent: frames covering each
/// pixel of the tile grid) from its inputs' footprints alone, before anything is co-added, so the planner can tell when
/// the images now available would make a better reference than the registered one. The tile grid is sampled at
/// <see cref="SamplesPerSide"/>² points; each counts the inputs whose footprint contains it. Footprints are the
/// quadrilaterals of the images' four registered corners in the gnomonic (TAN) projection about the tile centre, the
/// projection the tile grid itself uses (Calabretta &amp; Greisen 2002, A&amp;A 395, 1077, section 5.1.3), where the
/// straight edges of an image's footprint stay straight. It ignores what only the co-add knows (masked and rejected
/// pixels), so it compares two sets of inputs like with like, not a prediction with a registered figure.
/// </summary>
public static class ReferenceCoveragePrediction
{
    public const int SamplesPerSide = 48;
    public const double Percent = 5;

    /// <summary>An input's footprint: its corners (RA, Dec in degrees) in pixel order (1,1), (N1,1), (N1,N2), (1,N2).</summary>
    public sealed record Footprint(IReadOnlyList<(double RaDeg, double DecDeg)> Corners);

    public static double Cov5Percent(TileGrid tile, IEnumerable<Footprint> inputs)
    {
        var polygons = inputs.Select(f => Project(tile, f)).Where(p => p is not null).Select(p => p!).ToList();
        var halfX = tile.Naxis1 * tile.PixelScaleArcsec / 3600.0 * Math.PI / 180 / 2;
        var halfY = tile.Naxis2 * tile.PixelScaleArcsec / 3600.0 * Math.PI / 180 / 2;
        var counts = new int[SamplesPerSide * SamplesPerSide];
        for (var j = 0; j < SamplesPerSide; j++)
            for (var i = 0; i < SamplesPerSide; i++)
            {
                var x = ((i + 0.5) / SamplesPerSide * 2 - 1) * halfX;
                var y = ((j + 0.5) / SamplesPerSide * 2 - 1) * halfY;
                counts[j * SamplesPerSide + i] = polygons.Count(p => Contains(p, x, y));
            }
        Array.Sort(counts);
        // Linear interpolation between closest ranks, as numpy's default percentile and the co-add's statistic.
        var rank = Percent / 100 * (counts.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = Math.Min(lo + 1, counts.Length - 1);
        return counts[lo] + (rank - lo) * (counts[hi] - counts[lo]);
    }

    /// <summary>The footprint in the tangent plane (radians), or null when a corner is on the far side of the sky.</summary>
    private static (double X, double Y)[]? Project(TileGrid tile, Footprint footprint)
    {
        var (sinD0, cosD0) = Math.SinCos(tile.CenterDecDeg * Math.PI / 180);
        var points = new (double X, double Y)[footprint.Corners.Count];
        for (var k = 0; k < points.Length; k++)
        {
            var (ra, dec) = footprint.Corners[k];
            var (sinD, cosD) = Math.SinCos(dec * Math.PI / 180);
            var (sinA, cosA) = Math.SinCos((ra - tile.CenterRaDeg) * Math.PI / 180);
            var cosC = sinD0 * sinD + cosD0 * cosD * cosA;
            if (cosC <= 1e-6) return null;
            // Standard coordinates (xi east, eta north); the sampled grid is symmetric, so the tile's east-west flip does not matter.
            points[k] = (cosD * sinA / cosC, (cosD0 * sinD - sinD0 * cosD * cosA) / cosC);
        }
        return points;
    }

    /// <summary>Whether a convex polygon (corners in either winding) contains the point: every edge's cross product has one sign.</summary>
    private static bool Contains((double X, double Y)[] polygon, double x, double y)
    {
        int positive = 0, negative = 0;
        for (var k = 0; k < polygon.Length; k++)
        {
            var (ax, ay) = polygon[k];
            var (bx, by) = polygon[(k + 1) % polygon.Length];
            var cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
            if (cross > 0) positive++;
            else if (cross < 0) negative++;
        }
        return positive == 0 || negative == 0;
    }
}
