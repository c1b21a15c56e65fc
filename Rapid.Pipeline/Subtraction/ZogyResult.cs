using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// The products of <see cref="ZogySubtraction"/> on the input grid (row-major, index = y * Width + x), NaN where
/// either input was masked. Difference is D (eq. 13), whitened: unit variance per pixel on background-limited noise,
/// a transient of flux alpha (in N's unit) appearing as FluxScale * alpha * P_D. Score is S (eq. 12),
/// ScoreCorrected is S_corr (eq. 25), in sigmas.
/// </summary>
public sealed class ZogyResult
{
    internal ZogyResult(int width, int height, float[] difference, float[] score, float[] scoreCorrected, PsfModel differencePsf, double fluxScale)
    {
        (Width, Height, Difference, Score, ScoreCorrected, DifferencePsf, FluxScale) = (width, height, difference, score, scoreCorrected, differencePsf, fluxScale);
    }

    public int Width { get; }
    public int Height { get; }
    public float[] Difference { get; }
    public float[] Score { get; }
    public float[] ScoreCorrected { get; }
    /// <summary>P_D (eq. 14), cut to a stamp as wide as the wider input PSF stamp, renormalised to sum 1.</summary>
    public PsfModel DifferencePsf { get; }
    /// <summary>F_D = F_n F_r / sqrt(sigma_n^2 F_r^2 + sigma_r^2 F_n^2) (eq. 15).</summary>
    public double FluxScale { get; }
    /// <summary>The subtraction's kernels (F_S, P_D at sub-pixel offsets, ...).</summary>
    public required ZogyKernels Kernels { get; init; }
    /// <summary>The inputs and noise model, to evaluate the score locally (at sub-pixel offsets, with injected light).</summary>
    public required LocalScore Local { get; init; }

    /// <summary>D / F_D: the difference in N's flux unit (DN/s when N is), with a per-pixel noise of 1 / F_D.</summary>
    public float[] DifferenceInFluxUnits()
    {
        var result = new float[Difference.Length];
        var scale = 1 / FluxScale;
        Parallel.For(0, Height, y =>
        {
            for (var i = y * Width; i < (y + 1) * Width; i++) result[i] = (float)(Difference[i] * scale);
        });
        return result;
    }
}
