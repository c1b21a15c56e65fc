namespace Rapid.Pipeline.Simulation;

/// <summary>
/// Adds sources to a float image through small postage stamps (never a full-image loop per source).
/// Coordinates are 0-based array pixels: pixel (i, j) has its centre at (i, j) and covers
/// [i−0.5, i+0.5); the FITS 1-based pixel is (i + 1, j + 1). Fluxes are DN; each stamp sums to
/// the given flux, and the part that falls off the image is lost, as on a detector.
/// </summary>
public static class StampRenderer
{
    /// <summary>Adds a point source of <paramref name="flux"/> DN centred at 0-based (x, y).</summary>
    public static void AddPointSource(float[] image, int width, int height, double x, double y, double flux, MoffatPsf psf)
    {
        if (!(flux > 0)) return;
        var ic = (int)Math.Round(x);
        var jc = (int)Math.Round(y);
        // Wings below ~0.05 DN per pixel are folded into the stamp instead of drawn.
        var h = psf.StampHalfSize(Math.Clamp(0.05 / flux, 1e-6, 1e-2));
        if (ic + h < 0 || jc + h < 0 || ic - h >= width || jc - h >= height) return;
        var n = 2 * h + 1;
        Span<double> stamp = n * n <= 4096 ? stackalloc double[n * n] : new double[n * n];
        psf.FillStamp(stamp, h, x - ic, y - jc);
        AddStamp(image, width, height, stamp, h, ic, jc, flux);
    }

    /// <summary>
    /// Adds a Sersic galaxy (Sersic 1963) of <paramref name="flux"/> DN at 0-based (x, y), convolved with the PSF.
    /// I(r) ∝ exp(−b_n ((r/r_e)^(1/n) − 1)) on the elliptical radius r (r_e along the major axis,
    /// axis ratio q, major axis at angle theta from the +x axis), with b_n from the asymptotic
    /// expansion of Ciotti &amp; Bertin (1999, A&amp;A 352, 447). The profile is truncated at ~5 r_e and
    /// the stamp scaled so the galaxy's rendered flux equals <paramref name="flux"/>.
    /// </summary>
    public static void AddSersicGalaxy(float[] image, int width, int height, double x, double y, double flux,
        double effectiveRadiusPixels, double sersicIndex, double axisRatio, double thetaRad, MoffatPsf psf)
    {
        if (!(flux > 0)) return;
        var ic = (int)Math.Round(x);
        var jc = (int)Math.Round(y);
        var hg = (int)Math.Clamp(Math.Ceiling(5 * effectiveRadiusPixels + 2), 4, 48);
        const int hk = 4;                                      // PSF kernel half-size (≥ 98 % of the light for FWHM ≤ 2 px)
        var h = hg + hk;
        if (ic + h < 0 || jc + h < 0 || ic - h >= width || jc - h >= height) return;

        var ng = 2 * hg + 1;
        var galaxy = new double[ng * ng];
        var b = SersicB(sersicIndex);
        var (c, s) = (Math.Cos(thetaRad), Math.Sin(thetaRad));
        var dx0 = x - ic;
        var dy0 = y - jc;
        for (var j = 0; j < ng; j++)
            for (var i = 0; i < ng; i++)
            {
                var px = i - hg - dx0;
                var py = j - hg - dy0;
                var r2 = px * px + py * py;
                var sub = r2 < 4 ? 9 : r2 < 25 ? 3 : 1;        // finer sampling near the cusp, where the profile curves most
                double v = 0;
                for (var sj = 0; sj < sub; sj++)
                    for (var si = 0; si < sub; si++)
                    {
                        var ux = px + (si + 0.5) / sub - 0.5;
                        var uy = py + (sj + 0.5) / sub - 0.5;
                        var major = ux * c + uy * s;
                        var minor = (-ux * s + uy * c) / axisRatio;
                        var r = Math.Sqrt(major * major + minor * minor) / effectiveRadiusPixels;
                        v += Math.Exp(-b * (Math.Pow(r, 1 / sersicIndex) - 1));
                    }
                galaxy[j * ng + i] = v / (sub * sub);
            }

        var nk = 2 * hk + 1;
        Span<double> kernel = stackalloc double[nk * nk];
        psf.FillStamp(kernel, hk, 0, 0);

        var n = 2 * h + 1;
        var convolved = new double[n * n];
        for (var j = 0; j < ng; j++)
            for (var i = 0; i < ng; i++)
            {
                var g = galaxy[j * ng + i];
                if (g == 0) continue;
                for (var kj = 0; kj < nk; kj++)
                {
                    var row = (j + kj) * n + i;
                    var krow = kj * nk;
                    for (var ki = 0; ki < nk; ki++) convolved[row + ki] += g * kernel[krow + ki];
                }
            }
        double sum = 0;
        foreach (var v in convolved) sum += v;
        if (!(sum > 0)) return;
        for (var k = 0; k < convolved.Length; k++) convolved[k] /= sum;
        AddStamp(image, width, height, convolved, h, ic, jc, flux);
    }

    /// <summary>b_n of the Sersic profile: the radius r_e encloses half the light (Ciotti &amp; Bertin 1999, eq. 18).</summary>
    public static double SersicB(double n) =>
        2 * n - 1.0 / 3 + 4 / (405 * n) + 46 / (25515 * n * n) + 131 / (1148175 * n * n * n);

    private static void AddStamp(float[] image, int width, int height, ReadOnlySpan<double> stamp, int h, int ic, int jc, double flux)
    {
        var n = 2 * h + 1;
        var j0 = Math.Max(0, jc - h);
        var j1 = Math.Min(height - 1, jc + h);
        var i0 = Math.Max(0, ic - h);
        var i1 = Math.Min(width - 1, ic + h);
        for (var j = j0; j <= j1; j++)
        {
            var srow = (j - jc + h) * n - ic + h;
            var irow = j * width;
            for (var i = i0; i <= i1; i++) image[irow + i] += (float)(flux * stamp[srow + i]);
        }
    }
}
