namespace Rapid.Pipeline.Imaging;

/// <summary>FWHM (pixels) and elongation (major over minor axis) of a source; NaN when nothing positive was there.</summary>
public readonly record struct SourceShape(double Fwhm, double Elongation);

/// <summary>
/// The shape of a source from the second moments of its light (as SExtractor's A_IMAGE, B_IMAGE, Bertin &amp; Arnouts
/// 1996, A&amp;AS 117, 393): the intensity-weighted covariance of the pixels of sign x image &gt; 0 within a radius of
/// the position, its eigenvalues a^2 &gt;= b^2 giving FWHM = 2 sqrt(2 ln 2) sqrt((a^2 + b^2) / 2) (exact for a Gaussian)
/// and elongation a / b. The same aperture on a PSF stamp gives the PSF's width in the same terms, so their ratio says
/// whether a source is point-like whatever the aperture cuts off.
/// </summary>
public static class MomentShape
{
    private static readonly double GaussianFwhmPerSigma = 2 * Math.Sqrt(2 * Math.Log(2));

    /// <param name="x">0-based x of the source (pixel centres at integers).</param>
    /// <param name="sign">+1 for a positive source, -1 for a negative one.</param>
    public static SourceShape Measure(float[] image, int width, int height, double x, double y, int sign, double radius)
    {
        ArgumentNullException.ThrowIfNull(image);
        double sum = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        var r = (int)Math.Ceiling(radius);
        var (cx, cy) = ((int)Math.Round(x), (int)Math.Round(y));
        for (var j = Math.Max(0, cy - r); j <= Math.Min(height - 1, cy + r); j++)
            for (var i = Math.Max(0, cx - r); i <= Math.Min(width - 1, cx + r); i++)
            {
                var (dx, dy) = (i - x, j - y);
                if (dx * dx + dy * dy > radius * radius) continue;
                var v = sign * image[j * width + i];
                if (!(v > 0)) continue;
                sum += v; sx += v * dx; sy += v * dy; sxx += v * dx * dx; syy += v * dy * dy; sxy += v * dx * dy;
            }
        if (!(sum > 0)) return new SourceShape(double.NaN, double.NaN);
        var (mx, my) = (sx / sum, sy / sum);
        var (vxx, vyy, vxy) = (sxx / sum - mx * mx, syy / sum - my * my, sxy / sum - mx * my);
        var mean = (vxx + vyy) / 2;
        var spread = Math.Sqrt(Math.Max(0, (vxx - vyy) * (vxx - vyy) / 4 + vxy * vxy));
        var (major, minor) = (mean + spread, mean - spread);
        if (!(major > 0)) return new SourceShape(double.NaN, double.NaN);
        return new SourceShape(GaussianFwhmPerSigma * Math.Sqrt(mean), minor > 0 ? Math.Sqrt(major / minor) : double.PositiveInfinity);
    }
}
