namespace Rapid.Pipeline.Psf;

/// <summary>
/// Least-squares fit of a pixel-integrated circular Gaussian (flux, centre, width) to a star's pixels: a size measure
/// that, unlike moments or half-maximum widths taken on undersampled pixels, does not depend on where in its pixel
/// the star falls, because the model is integrated over the pixels as the detector integrates the star (the exact
/// effective PSF of a Gaussian, in Anderson &amp; King's sense). Used to find the stellar locus among the PSF
/// candidates before any ePSF exists.
/// </summary>
internal static class GaussianStarFit
{
    /// <summary>
    /// Fits f · G_σ(i − x, j − y) integrated over each pixel to the box's pixels (row-major size², sky-subtracted)
    /// within radius of (x, y), starting there with width sigma (pixels). Gauss-Newton with central-difference
    /// derivatives; null when it does not converge to a positive flux, a width of 0.2-10 px and a centre within 1.5 px.
    /// </summary>
    public static (double Flux, double X, double Y, double Sigma)? Fit(double[] box, int size, double x, double y, double sigma, double radius)
    {
        var (x0, y0) = (x, y);
        Span<double> p = [0, x, y, sigma];
        p[0] = Math.Max(1e-12, LinearFlux(box, size, p, radius));
        Span<double> a = stackalloc double[16];
        Span<double> b = stackalloc double[4];
        Span<double> jacobian = stackalloc double[4];
        Span<double> steps = [0, 1e-4, 1e-4, 1e-4];
        for (var iteration = 0; iteration < 40; iteration++)
        {
            a.Clear();
            b.Clear();
            var (i0, i1, j0, j1) = Window(size, x0, y0, radius);
            for (var j = j0; j <= j1; j++)
            {
                for (var i = i0; i <= i1; i++)
                {
                    if ((i - x0) * (i - x0) + (j - y0) * (j - y0) > radius * radius) continue;
                    var shape = Shape(i - p[1], j - p[2], p[3]);
                    var r = box[j * size + i] - p[0] * shape;
                    jacobian[0] = shape;
                    for (var k = 1; k < 4; k++)
                    {
                        var h = steps[k];
                        Span<double> q = [p[0], p[1], p[2], p[3]];
                        q[k] += h;
                        var plus = Shape(i - q[1], j - q[2], q[3]);
                        q[k] -= 2 * h;
                        var minus = Shape(i - q[1], j - q[2], q[3]);
                        jacobian[k] = p[0] * (plus - minus) / (2 * h);
                    }
                    for (var r0 = 0; r0 < 4; r0++)
                    {
                        b[r0] += jacobian[r0] * r;
                        for (var c = 0; c < 4; c++) a[r0 * 4 + c] += jacobian[r0] * jacobian[c];
                    }
                }
            }
            if (!LinearSystem.SolveSymmetric(a, b, 4)) return null;
            p[0] += b[0];
            p[1] += Math.Clamp(b[1], -0.5, 0.5);
            p[2] += Math.Clamp(b[2], -0.5, 0.5);
            p[3] = Math.Clamp(p[3] + Math.Clamp(b[3], -0.3 * p[3], 0.3 * p[3]), 0.1, 20);
            if (!(p[0] > 0) || Math.Abs(p[1] - x0) > 1.5 || Math.Abs(p[2] - y0) > 1.5) return null;
            if (Math.Abs(b[1]) < 1e-5 && Math.Abs(b[2]) < 1e-5 && Math.Abs(b[3]) < 1e-5 * p[3]) break;
        }
        return p[3] is >= 0.2 and <= 10 ? (p[0], p[1], p[2], p[3]) : null;
    }

    /// <summary>The pixel-integrated unit Gaussian of width sigma at offset (dx, dy) from its centre.</summary>
    public static double Shape(double dx, double dy, double sigma) => Integral(dx, sigma) * Integral(dy, sigma);

    private static double Integral(double d, double sigma)
    {
        var k = 1 / (Math.Sqrt(2) * sigma);
        return 0.5 * (EffectivePsf.Erf((d + 0.5) * k) - EffectivePsf.Erf((d - 0.5) * k));
    }

    /// <summary>The best flux for fixed centre and width (linear least squares).</summary>
    private static double LinearFlux(double[] box, int size, ReadOnlySpan<double> p, double radius)
    {
        double sdm = 0, smm = 0;
        var (i0, i1, j0, j1) = Window(size, p[1], p[2], radius);
        for (var j = j0; j <= j1; j++)
            for (var i = i0; i <= i1; i++)
            {
                if ((i - p[1]) * (i - p[1]) + (j - p[2]) * (j - p[2]) > radius * radius) continue;
                var m = Shape(i - p[1], j - p[2], p[3]);
                sdm += m * box[j * size + i];
                smm += m * m;
            }
        return smm > 0 ? sdm / smm : 0;
    }

    private static (int I0, int I1, int J0, int J1) Window(int size, double x, double y, double radius) =>
        (Math.Max(0, (int)Math.Floor(x - radius)), Math.Min(size - 1, (int)Math.Ceiling(x + radius)),
         Math.Max(0, (int)Math.Floor(y - radius)), Math.Min(size - 1, (int)Math.Ceiling(y + radius)));
}
