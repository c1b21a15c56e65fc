namespace Rapid.Core.Sky;

/// <summary>
/// The size of a north-up tile grid (gnomonic, centred on the tile's centre, CRPIX at (N + 1) / 2) that holds every
/// image it serves. A fixed tile size clips the corners of images that are rotated against the tile or centred away
/// from it (a 4088² SCA rolled by 45° spans 5782 px), and a reference co-added on such a tile leaves the clipped
/// corners of the difference image masked.
/// </summary>
public static class TileCoverage
{
    /// <summary>
    /// The smallest even side (pixels), at least <paramref name="minimumSide"/>, whose grid holds every corner (RA, Dec in
    /// degrees) with <paramref name="marginPixels"/> to spare (the resampling kernel's reach and the images' pixel edges).
    /// </summary>
    public static int SideCovering(double centreRaDeg, double centreDecDeg, double pixelScaleArcsec, IEnumerable<(double RaDeg, double DecDeg)> corners,
        int minimumSide, int marginPixels = 8)
    {
        ArgumentNullException.ThrowIfNull(corners);
        if (!(pixelScaleArcsec > 0)) throw new ArgumentException($"the pixel scale must be positive, not {pixelScaleArcsec}");
        var reach = 0.0;
        foreach (var (ra, dec) in corners)
        {
            var (xi, eta) = Gnomonic(centreRaDeg, centreDecDeg, ra, dec);
            if (!double.IsFinite(xi) || !double.IsFinite(eta)) throw new ArgumentException($"the corner ({ra}, {dec}) is not on the tangent plane of ({centreRaDeg}, {centreDecDeg})");
            reach = Math.Max(reach, Math.Max(Math.Abs(xi), Math.Abs(eta)) * 3600 / pixelScaleArcsec);
        }
        var side = 2 * (int)Math.Ceiling(reach + marginPixels);
        return Math.Max(minimumSide, side);
    }

    /// <summary>Standard coordinates (ξ, η) in degrees of (ra, dec) on the plane tangent at the centre; NaN beyond 90°.</summary>
    private static (double Xi, double Eta) Gnomonic(double ra0, double dec0, double ra, double dec)
    {
        const double rad = Math.PI / 180;
        var (a, d, a0, d0) = (ra * rad, dec * rad, ra0 * rad, dec0 * rad);
        var cosc = Math.Sin(d0) * Math.Sin(d) + Math.Cos(d0) * Math.Cos(d) * Math.Cos(a - a0);
        if (!(cosc > 0)) return (double.NaN, double.NaN);
        var xi = Math.Cos(d) * Math.Sin(a - a0) / cosc;
        var eta = (Math.Cos(d0) * Math.Sin(d) - Math.Sin(d0) * Math.Cos(d) * Math.Cos(a - a0)) / cosc;
        return (xi / rad, eta / rad);
    }
}
