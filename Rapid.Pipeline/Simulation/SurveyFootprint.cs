namespace Rapid.Pipeline.Simulation;

/// <summary>
/// Where a simulated survey's images fall on the sky tiles: the side of the smallest north-up tile grid (centred on
/// each field's centre, at the survey's pixel scale, as the reference co-add's grid is) that holds every image the
/// survey takes, corners included, whatever its roll, dither and distortion. A grid sized from the image size alone
/// (say 1.25 x) clips the corners of images rolled by 20 to 70 degrees: their bounding box is up to 1.41 x as wide.
/// </summary>
public static class SurveyFootprint
{
    /// <summary>Spare pixels on each side beyond the farthest image pixel: the Lanczos-3 support of resampling and a little.</summary>
    public const int DefaultMarginPixels = 8;

    /// <summary>The smallest even grid side (pixels) holding every planned image of every field of <paramref name="spec"/>.</summary>
    public static int TileGridPixels(SurveySpec spec, int marginPixels = DefaultMarginPixels)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var scaleDeg = spec.PixelScaleArcsec / 3600;
        var farthest = 0.0;
        foreach (var plan in SurveySchedule.Plan(spec))
        {
            // The same WCS the renderer gives the image (ExposureRenderer).
            var wcs = SimulatedWcs.Create(plan.CentreRaDeg, plan.CentreDecDeg, plan.PaDeg, spec.PixelScaleArcsec, spec.Size, spec.Size, spec.SipDistortion, plan.Sca);
            var (ra0, dec0) = spec.FieldCentres[plan.FieldIndex];
            foreach (var (x, y) in Boundary(spec.Size))
            {
                var (ra, dec) = wcs.PixelToSky(x, y);
                var (xi, eta) = SimulatedWcs.Project(ra0, dec0, ra, dec);
                farthest = Math.Max(farthest, Math.Max(Math.Abs(xi), Math.Abs(eta)) * (180 / Math.PI) / scaleDeg);
            }
        }
        return 2 * (int)Math.Ceiling(farthest + marginPixels);
    }

    /// <summary>The outer edge of an image (1-based FITS pixels: pixel centres 1..size, edges at 0.5 and size + 0.5), every 1/16 of a side.</summary>
    public static IEnumerable<(double X, double Y)> Boundary(int size)
    {
        var (lo, hi) = (0.5, size + 0.5);
        for (var k = 0; k <= 16; k++)
        {
            var t = lo + (hi - lo) * k / 16;
            yield return (t, lo);
            yield return (t, hi);
            yield return (lo, t);
            yield return (hi, t);
        }
    }
}
