using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// Masks cosmic rays and hot pixels of the (single) science exposure before ZOGY: left in, its kernels would spread
/// them into rings of spurious S_corr peaks. They are found as positive peaks of the plain difference sci − scale·ref
/// (so stars, which cancel, are not candidates) whose profile in the science image itself is sharper than any centring
/// of its PSF (<see cref="SharpnessFilter"/>): judged on the difference, the core of a star whose science PSF is much
/// sharper than the reference's would look sharp too, and masking it would leave a ring.
/// </summary>
public static class CosmicRayMask
{
    /// <summary>
    /// The same for the reference where its co-add could not reject outliers: fewer than
    /// <see cref="MinFramesForRejection"/> frames cover those pixels (the image edges and dither gaps), so a cosmic ray
    /// or hot pixel of one input stays in, Lanczos-3-resampled into a ringing spike (±3 DN/s on 0.03 DN/s noise at the
    /// bench's edges: 16 false detections in 16.7 Mpx, all within 7 px of an edge). Sharpness is judged against the
    /// reference PSF on the reference itself, and the mask is grown by the Lanczos-3 support (3 px) to cover the ringing.
    /// </summary>
    public static (int Features, int Pixels) ApplyToReference(float[] reference, float[] refVariance, float[] sci, float[] sciVariance,
        float[] coverage, double scale, int width, int height, double referenceFwhm, double thresholdSigma)
    {
        var unrejected = new bool[coverage.Length];
        var any = false;
        for (var i = 0; i < coverage.Length; i++)
            if (coverage[i] < MinFramesForRejection) unrejected[i] = any = true;
        if (!any || !(scale > 0)) return (0, 0);
        // ref - sci / scale, in the reference's units: positive where the reference holds what the science image does not.
        var sciInReferenceUnits = new float[sci.Length];
        var sciVarianceInReferenceUnits = new float[sci.Length];
        var s2 = scale * scale;
        for (var i = 0; i < sci.Length; i++) { sciInReferenceUnits[i] = (float)(sci[i] / scale); sciVarianceInReferenceUnits[i] = (float)(sciVariance[i] / s2); }
        return Apply(reference, refVariance, sciInReferenceUnits, sciVarianceInReferenceUnits, 1.0, width, height, new SharpnessFilter(referenceFwhm), thresholdSigma, unrejected, growRadius: 3);
    }

    /// <summary>A per-pixel sigma clip needs at least this many frames to tell an outlier from the others.</summary>
    public const double MinFramesForRejection = 3;

    /// <summary>
    /// Sets to NaN, in <paramref name="sci"/>, the 8-connected pixels beyond 3 sigma of the same sign around each
    /// sharp peak (within 10 px), grown by one pixel. Returns the number of features and of pixels masked.
    /// </summary>
    /// <param name="candidates">When given, only peaks at pixels where it is true are considered.</param>
    /// <param name="growRadius">Pixels the mask is grown by.</param>
    public static (int Features, int Pixels) Apply(float[] sci, float[] sciVariance, float[] reference, float[] refVariance,
        double scale, int width, int height, SharpnessFilter sharpness, double thresholdSigma, bool[]? candidates = null, int growRadius = 1)
    {
        ArgumentNullException.ThrowIfNull(sharpness);
        if (!(sharpness.MinNeighbourRatio > 0)) return (0, 0);
        var plain = new float[width * height];
        var significance = new float[width * height];
        Parallel.For(0, height, y =>
        {
            for (var i = y * width; i < (y + 1) * width; i++)
            {
                plain[i] = (float)(sci[i] - scale * reference[i]);
                var v = sciVariance[i] + scale * scale * refVariance[i];
                significance[i] = v > 0 ? (float)(plain[i] / Math.Sqrt(v)) : float.NaN;
            }
        });
        // minPixels 1: a hot pixel is a single pixel above the threshold, and left in, ZOGY's whitening turns it into
        // rows and columns of ringing.
        var sharp = new PeakDetector(thresholdSigma, minPixels: 1).Detect(significance, plain, width, height, includeNegative: false)
            .Where(d => (candidates is null || candidates[d.PeakY * width + d.PeakX]) && sharpness.IsSharperThanPsf(d, sci, width, height)).ToList();
        var mask = new bool[plain.Length];
        var stack = new Stack<(int X, int Y)>();
        foreach (var d in sharp)
        {
            stack.Push((d.PeakX, d.PeakY));
            mask[d.PeakY * width + d.PeakX] = true;
            while (stack.Count > 0)
            {
                var (px, py) = stack.Pop();
                for (var dy = -1; dy <= 1; dy++)
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        int x = px + dx, y = py + dy;
                        if (x < 0 || y < 0 || x >= width || y >= height || Math.Abs(x - d.PeakX) > 10 || Math.Abs(y - d.PeakY) > 10) continue;
                        var q = y * width + x;
                        if (mask[q] || !(d.Sign * significance[q] > 3)) continue;
                        mask[q] = true;
                        stack.Push((x, y));
                    }
            }
        }
        var grown = SaturationMask.Grow(mask, width, height, growRadius)!;
        var pixels = 0;
        for (var i = 0; i < grown.Length; i++)
        {
            if (!grown[i]) continue;
            sci[i] = float.NaN;
            pixels++;
        }
        return (sharp.Count, pixels);
    }
}
