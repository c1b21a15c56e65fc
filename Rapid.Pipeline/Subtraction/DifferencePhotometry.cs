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
/// NaN pixels of D are left out. The error is the background-limited one: source noise of bright hosts is not in it.
/// </summary>
public static class DifferencePhotometry
{
    /// <summary>x, y: 0-based pixel coordinates on D (pixel centres at integers).</summary>
    public static DifferenceFlux Measure(ZogyResult zogy, double x, double y)
    {
        ArgumentNullException.ThrowIfNull(zogy);
        return Measure(zogy.Difference, zogy.Width, zogy.Height, zogy.DifferencePsf, zogy.FluxScale, x, y);
    }

    /// <summary>difference: whitened D (row-major); psf: P_D; fluxScale: F_D.</summary>
    public static DifferenceFlux Measure(float[] difference, int width, int height, PsfModel psf, double fluxScale, double x, double y)
    {
        ArgumentNullException.ThrowIfNull(difference);
        ArgumentNullException.ThrowIfNull(psf);
        if (difference.Length != (long)width * height) throw new ArgumentException($"the difference image has {difference.Length} values, not {width} x {height}");
        if (!(fluxScale > 0)) throw new ArgumentException($"the flux scale F_D must be positive, not {fluxScale}");
        var c = psf.Centre;
        var (ix, iy) = ((int)Math.Round(x), (int)Math.Round(y));
        double sdm = 0, smm = 0;
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
                used++;
            }
        }
        if (!(smm > 0)) return new DifferenceFlux(x, y, double.NaN, double.NaN, used);
        return new DifferenceFlux(x, y, sdm / (fluxScale * smm), 1 / (fluxScale * Math.Sqrt(smm)), used);
    }
}
