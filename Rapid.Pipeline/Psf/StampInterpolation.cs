using Rapid.Pipeline.Resampling;

namespace Rapid.Pipeline.Psf;

/// <summary>
/// Sub-pixel interpolation in small stamps (row-major, index = y * width + x, 0-based pixel centres) with the separable
/// Lanczos-3 kernel, weights renormalised to unit sum per axis so a constant stays constant.
/// </summary>
internal static class StampInterpolation
{
    /// <summary>The stamp value interpolated at a fractional 0-based position; NaN where taps fall outside.</summary>
    public static double At(ReadOnlySpan<double> stamp, int size, double x, double y)
    {
        Span<double> wx = stackalloc double[6];
        Span<double> wy = stackalloc double[6];
        var fx = Math.Floor(x);
        var fy = Math.Floor(y);
        Weights(x - fx, wx);
        Weights(y - fy, wy);
        double sum = 0;
        for (var b = 0; b < 6; b++)
        {
            var yy = (int)fy - 2 + b;
            if (yy < 0 || yy >= size) { if (Math.Abs(wy[b]) > 1e-9) return double.NaN; continue; }
            for (var a = 0; a < 6; a++)
            {
                var xx = (int)fx - 2 + a;
                if (xx < 0 || xx >= size) { if (Math.Abs(wx[a]) > 1e-9) return double.NaN; continue; }
                sum += wy[b] * wx[a] * stamp[yy * size + xx];
            }
        }
        return sum;
    }

    /// <summary>The 6 normalised weights for taps floor(p) - 2 .. floor(p) + 3 given frac = p - floor(p).</summary>
    private static void Weights(double frac, Span<double> weights)
    {
        double total = 0;
        for (var k = 0; k < 6; k++) total += weights[k] = LanczosKernel.Exact(frac + 2 - k);
        for (var k = 0; k < 6; k++) weights[k] /= total;
    }
}
