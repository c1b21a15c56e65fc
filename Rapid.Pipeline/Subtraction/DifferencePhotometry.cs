using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Subtraction;

/// <summary>A PSF-fit flux on a difference image: Flux and FluxError in N's flux unit (DN/s when N is), either sign.</summary>
public readonly record struct DifferenceFlux(double X, double Y, double Flux, double FluxError, int PixelsUsed)
{
    public double SignalToNoise => Flux / FluxError;
}

/// <summary>
/// PSF-fit photometry on a ZOGY difference image at fixed positions: the linear least-squares amplitude of P_D
/// (Lanczos-3 shifted to the sub-pixel position) in a box of the P_D stamp's size, with D's noise white and of unit
/// variance by construction (Zackay et al. 2016, section 3.2), so
///   flux = sum(D m) / (F_D sum(m^2)),   error = 1 / (F_D sqrt(sum(m^2))).
/// NaN pixels of D are left out. Without an uncertainty image the error is the background-limited one; with one
/// (the science job passes diffimage_uncert) it includes the source noise of the transient and its host.
/// </summary>
public static class DifferencePhotometry
{
    /// <summary>x, y: 0-based pixel coordinates on D (pixel centres at integers).</summary>
    public static DifferenceFlux Measure(ZogyResult zogy, double x, double y)
    {
        ArgumentNullException.ThrowIfNull(zogy);
        return Measure(zogy.Difference, zogy.Width, zogy.Height, zogy.DifferencePsf, zogy.FluxScale, x, y);
    }

    /// <summary>
    /// The same with the error from a per-pixel 1-sigma image of D / F_D (flux units, e.g. DifferenceUncertainty):
    /// error^2 = sum(m^2 sigma^2) / (sum m^2)^2, which includes the source noise that sigma holds; where sigma is the
    /// background 1 / F_D everywhere it equals the background-limited error above.
    /// </summary>
    public static DifferenceFlux Measure(ZogyResult zogy, float[] uncertainty, double x, double y)
    {
        ArgumentNullException.ThrowIfNull(zogy);
        ArgumentNullException.ThrowIfNull(uncertainty);
        return Measure(zogy.Difference, zogy.Width, zogy.Height, zogy.DifferencePsf, zogy.FluxScale, x, y, uncertainty);
    }

    /// <summary>difference: whitened D (row-major); psf: P_D; fluxScale: F_D; uncertainty: optional 1-sigma of D / F_D (flux units).</summary>
    public static DifferenceFlux Measure(float[] difference, int width, int height, PsfModel psf, double fluxScale, double x, double y, float[]? uncertainty = null)
    {
        ArgumentNullException.ThrowIfNull(difference);
        ArgumentNullException.ThrowIfNull(psf);
        if (difference.Length != (long)width * height) throw new ArgumentException($"the difference image has {difference.Length} values, not {width} x {height}");
        if (!(fluxScale > 0)) throw new ArgumentException($"the flux scale F_D must be positive, not {fluxScale}");
        var c = psf.Centre;
        var (ix, iy) = ((int)Math.Round(x), (int)Math.Round(y));
        double sdm = 0, smm = 0, smmv = 0;
        var used = 0;
        for (var j = iy - c; j <= iy + c; j++)
        {
            if (j < 0 || j >= height) continue;
            for (var i = ix - c; i <= ix + c; i++)
            {
                if (i < 0 || i >= width) continue;
                var d = difference[j * width + i];
                if (float.IsNaN(d)) continue;
                var m = StampInterpolation.At(psf.Stamp, psf.Size, i - x + c, j - y + c);
                if (double.IsNaN(m)) m = 0;
                sdm += d * m;
                smm += m * m;
                var sigma = uncertainty is null ? double.NaN : uncertainty[j * width + i];
                smmv += m * m * (double.IsFinite(sigma) && sigma > 0 ? sigma * sigma * fluxScale * fluxScale : 1);
                used++;
            }
        }
        if (!(smm > 0)) return new DifferenceFlux(x, y, double.NaN, double.NaN, used);
        // In D's own units each pixel has variance 1 (background) or (F_D sigma)^2.
        return new DifferenceFlux(x, y, sdm / (fluxScale * smm), Math.Sqrt(smmv) / (fluxScale * smm), used);
    }
}
