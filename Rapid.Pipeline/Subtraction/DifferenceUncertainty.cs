namespace Rapid.Pipeline.Subtraction;

/// <summary>The per-pixel 1-sigma of a ZOGY difference in flux units (D / F_D, DN/s).</summary>
public static class DifferenceUncertainty
{
    /// <summary>
    /// D is whitened: on background-limited noise its per-pixel sigma is 1, i.e. 1 / F_D in DN/s (Zackay et al. 2016,
    /// section 3.2). Where a pixel's total variance exceeds the background (source noise of bright stars) the two
    /// images' shares of D's variance, w_n = sigma_n^2 F_r^2 / (sigma_n^2 F_r^2 + sigma_r^2 F_n^2) and w_r = 1 − w_n at
    /// low frequencies, are scaled by the local variance over the background variance:
    ///   sigma_D(x) = (1 / F_D) sqrt(w_n V_n(x) / sigma_n^2 + w_r V_r(x) / sigma_r^2).
    /// A pixel-wise approximation: it ignores how the ZOGY kernels spread variance between neighbouring pixels.
    /// </summary>
    public static float[] PerPixel(ZogyResult zogy, float[] newVariance, float[] referenceVariance, double sigmaN, double sigmaR, double fn, double fr)
    {
        ArgumentNullException.ThrowIfNull(zogy);
        var (sn2, sr2) = (sigmaN * sigmaN, sigmaR * sigmaR);
        var wn = sn2 * fr * fr / (sn2 * fr * fr + sr2 * fn * fn);
        var wr = 1 - wn;
        var result = new float[zogy.Difference.Length];
        Parallel.For(0, zogy.Height, y =>
        {
            for (var i = y * zogy.Width; i < (y + 1) * zogy.Width; i++)
            {
                if (float.IsNaN(zogy.Difference[i])) { result[i] = float.NaN; continue; }
                var vn = double.IsFinite(newVariance[i]) && newVariance[i] > 0 ? Math.Max(newVariance[i], sn2) : sn2;
                var vr = double.IsFinite(referenceVariance[i]) && referenceVariance[i] > 0 ? Math.Max(referenceVariance[i], sr2) : sr2;
                result[i] = (float)(Math.Sqrt(wn * vn / sn2 + wr * vr / sr2) / zogy.FluxScale);
            }
        });
        return result;
    }
}
