using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Resampling;

/// <summary>
/// Lanczos-3 resampling of an image onto another WCS grid, as SWarp's RESAMPLING_TYPE LANCZOS3 (Bertin et al. 2002,
/// ASP Conf. Ser. 281, 228): each destination pixel centre is mapped into the source image (exactly on a 16-pixel
/// grid, bilinearly in between) and the 6 x 6 source pixels around it are combined with separable Lanczos-3 weights.
/// Values are interpolated, not rescaled by the pixel-area ratio, so flux is conserved when both grids have the
/// same pixel scale (callers resampling between different scales multiply by the area ratio themselves).
/// Taps beyond the source edges are left out and the remaining weights renormalised (the coverage says how much was
/// left); a destination pixel with a tap on a NaN input (saturated, bad) is masked: NaN, coverage 0.
/// </summary>
public static class LanczosResampler
{
    /// <summary>
    /// Below this share of the kernel's signed weight on valid input, renormalising would amplify noise
    /// without bound (the negative lobes could dominate), so the pixel is treated as uncovered.
    /// </summary>
    private const float MinValidWeight = 0.2f;

    /// <summary>
    /// Weights below this are the kernel's zeros at whole-pixel offsets as tabulated (table error below 1e-7): a NaN
    /// tap there takes nothing from the pixel, so it does not mask it.
    /// </summary>
    private const double NegligibleWeight = 1e-5;

    /// <summary>Keeps lanes 0-5 of a <see cref="LanczosKernel.PhaseWeights"/> vector (the weights) and zeroes the sums.</summary>
    private static readonly Vector256<float> SixTaps = Vector256.Create(1f, 1f, 1f, 1f, 1f, 1f, 0f, 0f);

    /// <summary>
    /// Resamples src (NaN = invalid) from srcWcs onto a dstWidth x dstHeight grid with dstWcs.
    /// Coverage = sum of |w| over the taps inside the source / sum of |w| over all 36 taps; pixels whose centre falls
    /// outside the source image, with too little support inside it, or with a tap on a NaN input get NaN and coverage 0. The variance (optional, same size as
    /// src) is propagated as sum(w^2 var) / (sum w)^2.
    /// </summary>
    public static ResampledImage Resample(FitsImage src, TanSipWcs srcWcs, int dstWidth, int dstHeight, TanSipWcs dstWcs, float[]? srcVariance = null) =>
        Resample(src, srcWcs, dstWidth, dstHeight, dstWcs, srcVariance, allowShiftCopy: true);

    /// <param name="allowShiftCopy">False forces the kernel even between grids that differ by whole pixels (tests compare the two).</param>
    internal static ResampledImage Resample(FitsImage src, TanSipWcs srcWcs, int dstWidth, int dstHeight, TanSipWcs dstWcs, float[]? srcVariance, bool allowShiftCopy)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(srcWcs);
        ArgumentNullException.ThrowIfNull(dstWcs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dstWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dstHeight);
        if (srcVariance is not null && srcVariance.Length != src.Pixels.Length)
            throw new ArgumentException($"the variance has {srcVariance.Length} pixels, the image {src.Pixels.Length}");

        var count = (long)dstWidth * dstHeight;
        var pixels = new float[count];
        var coverage = new float[count];
        var variance = srcVariance is null ? null : new float[count];
        var map = new PixelMap(dstWidth, dstHeight, dstWcs, srcWcs);
        var (w, h) = (src.Width, src.Height);
        var data = src.Pixels;
        if (allowShiftCopy && map.IsIntegerShift(out var shiftX, out var shiftY))
        {
            CopyShifted(data, srcVariance, w, h, shiftX, shiftY, pixels, coverage, variance, dstWidth, dstHeight);
            return new ResampledImage(dstWidth, dstHeight, pixels, coverage, variance);
        }
        // Rows of 8 floats hold the 6 taps; the 2 extra lanes are weighted 0 (a NaN there only sends the pixel to the slow path).
        var simd = Vector256.IsHardwareAccelerated;

        Parallel.For(0, dstHeight, () => (new double[dstWidth], new double[dstWidth]), (y, _, rows) =>
        {
            var (xs, ys) = rows;
            map.MapRow(y, xs, ys);
            Span<float> wx = stackalloc float[8];
            Span<float> wy = stackalloc float[8];
            var rowStart = (long)y * dstWidth;
            for (var x = 0; x < dstWidth; x++)
            {
                var o = rowStart + x;
                double sx = xs[x], sy = ys[x];
                // Pixel centres are at integers; the source image spans [-0.5, n - 0.5). NaN fails these tests too.
                if (!(sx >= -0.5 && sx < w - 0.5 && sy >= -0.5 && sy < h - 0.5))
                {
                    pixels[o] = float.NaN;
                    if (variance is not null) variance[o] = float.NaN;
                    continue;
                }
                var ix = (int)Math.Floor(sx);
                var iy = (int)Math.Floor(sy);
                // Lanes 0-5 the weights, 6 their sum, 7 the sum of their absolute values.
                var vx = LanczosKernel.PhaseWeights((float)(sx - ix));
                var vy = LanczosKernel.PhaseWeights((float)(sy - iy));
                float sumX = vx.GetElement(6), sumY = vy.GetElement(6), absX = vx.GetElement(7), absY = vy.GetElement(7);

                // Fast path: all 36 taps inside the image and valid (a NaN input makes the sum NaN).
                if (simd && ix >= 2 && ix + 5 < w && iy >= 2 && iy + 3 < h)
                {
                    var (fast, fastVar) = TapsSimd(data, srcVariance, w, ix, iy, vx * SixTaps, vy);
                    if (!float.IsNaN(fast) && !float.IsNaN(fastVar))
                    {
                        var norm = sumX * sumY;
                        pixels[o] = fast / norm;
                        coverage[o] = 1f;
                        if (variance is not null) variance[o] = fastVar / (norm * norm);
                        continue;
                    }
                }
                vx.CopyTo(wx);
                vy.CopyTo(wy);
                if (!simd && ix >= 2 && ix + 3 < w && iy >= 2 && iy + 3 < h)
                {
                    float fast = 0, fastVar = 0;
                    for (var j = 0; j < 6; j++)
                    {
                        var line = data.AsSpan((int)((long)(iy - 2 + j) * w + ix - 2), 6);
                        var rowSum = wx[0] * line[0] + wx[1] * line[1] + wx[2] * line[2] + wx[3] * line[3] + wx[4] * line[4] + wx[5] * line[5];
                        fast += wy[j] * rowSum;
                        if (variance is not null)
                        {
                            var vline = srcVariance.AsSpan((int)((long)(iy - 2 + j) * w + ix - 2), 6);
                            var rowVar = wx[0] * wx[0] * vline[0] + wx[1] * wx[1] * vline[1] + wx[2] * wx[2] * vline[2]
                                + wx[3] * wx[3] * vline[3] + wx[4] * wx[4] * vline[4] + wx[5] * wx[5] * vline[5];
                            fastVar += wy[j] * wy[j] * rowVar;
                        }
                    }
                    if (!float.IsNaN(fast) && !float.IsNaN(fastVar))
                    {
                        var norm = sumX * sumY;
                        pixels[o] = fast / norm;
                        coverage[o] = 1f;
                        if (variance is not null) variance[o] = fastVar / (norm * norm);
                        continue;
                    }
                }

                double sum = 0, sumW = 0, sumAbs = 0, sumVar = 0;
                var lost = false;
                for (var j = 0; j < 6 && !lost; j++)
                {
                    var row = iy - 2 + j;
                    if ((uint)row >= (uint)h || wy[j] == 0) continue;
                    var rowOffset = (long)row * w;
                    for (var k = 0; k < 6; k++)
                    {
                        var col = ix - 2 + k;
                        if ((uint)col >= (uint)w) continue;
                        var weight = (double)wx[k] * wy[j];
                        var v = data[rowOffset + col];
                        var s2 = variance is null ? 0f : srcVariance![rowOffset + col];
                        if (float.IsNaN(v) || float.IsNaN(s2))
                        {
                            // A tap on a masked pixel (a saturated core, a bad pixel) with real weight: the renormalised sum
                            // of the rest would stand for the missing light with wrong values, so the pixel is masked.
                            if (Math.Abs(weight) > NegligibleWeight) { lost = true; break; }
                            continue;
                        }
                        sumVar += weight * weight * s2;
                        sum += weight * v;
                        sumW += weight;
                        sumAbs += Math.Abs(weight);
                    }
                }
                var total = (double)absX * absY;
                var allW = (double)sumX * sumY;
                if (lost || sumW < MinValidWeight * allW)
                {
                    pixels[o] = float.NaN;
                    if (variance is not null) variance[o] = float.NaN;
                    continue;
                }
                pixels[o] = (float)(sum / sumW);
                coverage[o] = (float)Math.Min(1.0, sumAbs / total);
                if (variance is not null) variance[o] = (float)(sumVar / (sumW * sumW));
            }
            return rows;
        }, _ => { });

        return new ResampledImage(dstWidth, dstHeight, pixels, coverage, variance);
    }

    /// <summary>
    /// The 6 x 6 weighted sums of value and variance with 8-float vectors: per tap row one multiply-add of the row
    /// (weighted by wy), then one dot product with wx. Callers guarantee taps ix - 2 .. ix + 5 and iy - 2 .. iy + 3 exist.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float Value, float Variance) TapsSimd(float[] data, float[]? variance, int w, int ix, int iy, Vector256<float> wxv, Vector256<float> wy)
    {
        // Unrolled with constant lane indices: a variable index into a vector costs a round trip through memory.
        var start = (nuint)((long)(iy - 2) * w + ix - 2);
        var stride = (nuint)w;
        ref var d = ref MemoryMarshal.GetArrayDataReference(data);
        var acc = Vector256.LoadUnsafe(ref d, start) * wy.GetElement(0)
            + Vector256.LoadUnsafe(ref d, start + stride) * wy.GetElement(1)
            + Vector256.LoadUnsafe(ref d, start + 2 * stride) * wy.GetElement(2)
            + Vector256.LoadUnsafe(ref d, start + 3 * stride) * wy.GetElement(3)
            + Vector256.LoadUnsafe(ref d, start + 4 * stride) * wy.GetElement(4)
            + Vector256.LoadUnsafe(ref d, start + 5 * stride) * wy.GetElement(5);
        var value = Vector256.Sum(acc * wxv);
        if (variance is null) return (value, 0f);
        var wy2 = wy * wy;
        ref var v = ref MemoryMarshal.GetArrayDataReference(variance);
        var accVar = Vector256.LoadUnsafe(ref v, start) * wy2.GetElement(0)
            + Vector256.LoadUnsafe(ref v, start + stride) * wy2.GetElement(1)
            + Vector256.LoadUnsafe(ref v, start + 2 * stride) * wy2.GetElement(2)
            + Vector256.LoadUnsafe(ref v, start + 3 * stride) * wy2.GetElement(3)
            + Vector256.LoadUnsafe(ref v, start + 4 * stride) * wy2.GetElement(4)
            + Vector256.LoadUnsafe(ref v, start + 5 * stride) * wy2.GetElement(5);
        return (value, Vector256.Sum(accVar * (wxv * wxv)));
    }

    /// <summary>
    /// Destination pixel (x, y) is source pixel (x + dx, y + dy): what the kernel gives when the grids differ by whole
    /// pixels (weight 1 on that tap, 0 on the others), without its 36 taps per pixel. NaN (or a NaN variance) stays
    /// uncovered, as in the kernel path.
    /// </summary>
    private static void CopyShifted(float[] data, float[]? srcVariance, int w, int h, int dx, int dy,
        float[] pixels, float[] coverage, float[]? variance, int dstWidth, int dstHeight)
    {
        Parallel.For(0, dstHeight, y =>
        {
            var sy = y + dy;
            var row = (long)y * dstWidth;
            for (var x = 0; x < dstWidth; x++)
            {
                var sx = x + dx;
                var o = row + x;
                float value = float.NaN, var = float.NaN;
                if ((uint)sx < (uint)w && (uint)sy < (uint)h)
                {
                    var i = (long)sy * w + sx;
                    value = data[i];
                    if (srcVariance is not null) var = srcVariance[i];
                }
                var valid = !float.IsNaN(value) && (srcVariance is null || !float.IsNaN(var));
                pixels[o] = valid ? value : float.NaN;
                coverage[o] = valid ? 1f : 0f;
                if (variance is not null) variance[o] = valid ? var : float.NaN;
            }
        });
    }
}
