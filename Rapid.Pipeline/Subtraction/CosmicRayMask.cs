using System.Runtime.InteropServices;
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
        var unrejected = Unrejected(coverage);
        if (!unrejected.Any() || !(scale > 0)) return (0, 0);
        var sharpness = new SharpnessFilter(referenceFwhm);
        if (!(sharpness.MinNeighbourRatio > 0)) return (0, 0);
        // ref - sci / scale, in the reference's units: positive where the reference holds what the science image does
        // not. Only peaks at unrejected pixels are candidates, so their regions are followed from those pixels alone
        // and the difference is computed where it is read: the image edges and dither gaps, not the whole image.
        var difference = new ReferenceDifference(reference, refVariance, sci, sciVariance, scale);
        var sharp = new PeakDetector(thresholdSigma, minPixels: 1)
            .DetectFromSeeds(new ReferenceSignificance(difference), new ReferencePlain(difference), unrejected, width, height)
            .Where(d => coverage[d.PeakY * width + d.PeakX] < MinFramesForRejection && sharpness.IsSharperThanPsf(d, reference, width, height)).ToList();
        return MaskAround(sharp, reference, new ReferenceSignificance(difference), width, height, growRadius: 3);
    }

    /// <summary>Pixels (in index order) that fewer than <see cref="MinFramesForRejection"/> frames cover.</summary>
    private static IEnumerable<int> Unrejected(float[] coverage)
    {
        for (var i = 0; i < coverage.Length; i++)
            if (coverage[i] < MinFramesForRejection) yield return i;
    }

    /// <summary>
    /// ref - sci / scale and its significance at one pixel, the science values first converted to the reference's units
    /// in float (as the whole-image arrays this replaces held them, so the masks are the same to the bit).
    /// </summary>
    private sealed class ReferenceDifference(float[] reference, float[] refVariance, float[] sci, float[] sciVariance, double scale)
    {
        private readonly double _scale2 = scale * scale;

        public float Plain(int i) => (float)(reference[i] - 1.0 * (float)(sci[i] / scale));

        public float Significance(int i)
        {
            var v = refVariance[i] + 1.0 * 1.0 * (float)(sciVariance[i] / _scale2);
            return v > 0 ? (float)(Plain(i) / Math.Sqrt(v)) : float.NaN;
        }
    }

    private readonly struct ReferencePlain(ReferenceDifference difference) : IPixelValues
    {
        public float this[int index] => difference.Plain(index);
    }

    private readonly struct ReferenceSignificance(ReferenceDifference difference) : IPixelValues
    {
        public float this[int index] => difference.Significance(index);
    }

    /// <summary>A per-pixel sigma clip needs at least this many frames to tell an outlier from the others.</summary>
    public const double MinFramesForRejection = 3;

    /// <summary>
    /// Sets to NaN, in <paramref name="sci"/>, the 8-connected pixels beyond 3 sigma of the same sign around each
    /// sharp peak (within 10 px), grown by one pixel. Returns the number of features and of pixels masked.
    /// </summary>
    public static (int Features, int Pixels) Apply(float[] sci, float[] sciVariance, float[] reference, float[] refVariance,
        double scale, int width, int height, SharpnessFilter sharpness, double thresholdSigma)
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
            .Where(d => sharpness.IsSharperThanPsf(d, sci, width, height)).ToList();
        return MaskAround(sharp, sci, new PixelArray(significance), width, height, growRadius: 1);
    }

    /// <summary>
    /// Masks (NaN in <paramref name="image"/>) the 8-connected pixels beyond 3 sigma of the same sign around each peak,
    /// within 10 px of it, in the peaks' order, grown by <paramref name="growRadius"/> pixels.
    /// </summary>
    private static (int Features, int Pixels) MaskAround<TSignificance>(List<Detection> sharp, float[] image, TSignificance significance, int width, int height, int growRadius)
        where TSignificance : struct, IPixelValues
    {
        var mask = new bool[image.Length];
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
        var grown = MemoryMarshal.Cast<bool, byte>(SaturationMask.Grow(mask, width, height, growRadius)!.AsSpan());
        var pixels = 0;
        var offset = 0;
        int next;
        while ((next = grown[offset..].IndexOf((byte)1)) >= 0)
        {
            image[offset + next] = float.NaN;
            pixels++;
            offset += next + 1;
        }
        return (sharp.Count, pixels);
    }
}
