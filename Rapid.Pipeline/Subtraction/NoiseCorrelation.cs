using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// The noise of an image as ZOGY's variance maps should see it. Two things make a per-pixel variance map wrong for
/// the sums over a kernel that S and its variance are:
/// <list type="bullet">
/// <item>Resampling correlates the noise: a Lanczos-interpolated pixel has less variance than its inputs (sum w^2 of
/// them) but its neighbours share the same inputs, so a sum over a kernel broader than the interpolation keeps the
/// inputs' full variance. The normalised autocorrelation rho of the background noise, measured here, turns a
/// per-pixel variance into the variance of any kernel sum: V(sum k I) = sum_u sum_v k(u) k(v) C(u - v), i.e.
/// eta sum k^2 V with eta = sum_lag rho(lag) A_k(lag) / A_k(0), A_k the kernel's autocorrelation
/// (<see cref="ZogySubtraction"/> applies it with its own kernels).</item>
/// <item>A variance map computed from each pixel's own value (Poisson: |DN| / gain + read noise^2) is low exactly where
/// the noise went low, so negative fluctuations look more significant than positive ones (at 5 sigma, a 5 % low
/// variance makes noise dips three times as frequent). <see cref="Decoupled"/> averages the part above the sky
/// over a 3 x 3 box, so a pixel's variance no longer follows its own noise.</item>
/// </list>
/// </summary>
public static class NoiseCorrelation
{
    /// <summary>Half-width (pixels) of the lags measured: Lanczos-3 correlates pixels up to 3 apart; twice resampled, a little further.</summary>
    public const int MaxLag = 4;

    /// <summary>
    /// rho(dx, dy) for |dx|, |dy| &lt;= <see cref="MaxLag"/> (row-major, (2 MaxLag + 1)^2, rho(0, 0) = 1), measured on the
    /// background-subtracted image's background: pixels within 3 sigma of zero whose whole lag box is too (no sources,
    /// no masked pixels), sampled every few rows. Null when too few pixels qualify.
    /// </summary>
    public static double[]? Autocorrelation(float[] image, int width, int height, double sigma)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!(sigma > 0)) return null;
        var side = 2 * MaxLag + 1;
        var limit = 3 * sigma;
        // Rows every `stride` apart keep the work to a few million products at 4088^2.
        var stride = Math.Max(1, height / 512);
        var rows = Math.Max(0, (height - 2 * MaxLag + stride - 1) / stride);
        // Each sampled row's sums are its own (summed over x in order) and the rows are added in order afterwards, so
        // the result does not depend on how the rows were shared between threads (run-to-run identical products).
        var rowSums = new double[(long)rows * side * side];
        var rowCounts = new long[rows];
        Parallel.For(0, rows, () => (Column: new bool[width], Qualify: new int[width]), (k, _, scratch) =>
        {
            var y = MaxLag + k * stride;
            if (y >= height - MaxLag) return scratch;
            // A pixel qualifies when its whole (2 MaxLag + 1)^2 box is sky: per column, all 2 MaxLag + 1 rows; then a
            // run of 2 MaxLag + 1 such columns around it.
            var column = scratch.Column;
            for (var x = 0; x < width; x++)
            {
                var all = true;
                for (var dy = -MaxLag; dy <= MaxLag && all; dy++) all = Math.Abs(image[(y + dy) * width + x]) <= limit;
                column[x] = all;
            }
            var qualify = scratch.Qualify;
            var n = 0;
            var run = 0;
            for (var x = 0; x < width; x++)
            {
                run = column[x] ? run + 1 : 0;
                // run >= side at x means columns x - 2 MaxLag .. x are all sky: the pixel x - MaxLag qualifies.
                if (run >= side) qualify[n++] = x - MaxLag;
            }
            rowCounts[k] = n;
            if (n == 0) return scratch;
            var sums = new Span<double>(rowSums, k * side * side, side * side);
            var centre = y * width;
            if (MaxLag == 4 && Vector256.IsHardwareAccelerated)
            {
                SumLagsOfRow(image, width, centre, qualify.AsSpan(0, n), sums);
                return scratch;
            }
            for (var dy = -MaxLag; dy <= MaxLag; dy++)
                for (var dx = -MaxLag; dx <= MaxLag; dx++)
                {
                    var offset = centre + dy * width + dx;
                    double sum = 0;
                    for (var q = 0; q < n; q++)
                    {
                        var x = qualify[q];
                        sum += (double)image[centre + x] * image[offset + x];
                    }
                    sums[(dy + MaxLag) * side + dx + MaxLag] = sum;
                }
            return scratch;
        }, _ => { });
        var sums = new double[side * side];
        long count = 0;
        for (var k = 0; k < rows; k++)
        {
            for (var j = 0; j < sums.Length; j++) sums[j] += rowSums[(long)k * sums.Length + j];
            count += rowCounts[k];
        }
        var zero = sums[MaxLag * side + MaxLag];
        if (count < 1000 || !(zero > 0)) return null;
        return sums.Select(s => s / zero).ToArray();
    }

    /// <summary>
    /// The lag sums of one sampled row as the scalar loop makes them, nine lags of a lag row at a time: for each
    /// qualifying pixel x, the eight values at dx = -4..3 are loaded as one vector, widened to double and multiplied by
    /// the pixel (dx = 4 on its own), so each lag's sum still adds its products in the order of x and is the same to the
    /// bit, with one pass over the pixels per lag row instead of one per lag.
    /// </summary>
    private static void SumLagsOfRow(float[] image, int width, int centre, ReadOnlySpan<int> qualify, Span<double> sums)
    {
        const int side = 2 * MaxLag + 1;
        ref var pixels = ref MemoryMarshal.GetArrayDataReference(image);
        for (var dy = -MaxLag; dy <= MaxLag; dy++)
        {
            var row = centre + dy * width;
            var (low, high) = (Vector256<double>.Zero, Vector256<double>.Zero);
            double last = 0;
            foreach (var x in qualify)
            {
                // A qualifying pixel is at least MaxLag from either end of its row, and its rows exist: the loads stay inside.
                double a = image[centre + x];
                var va = Vector256.Create(a);
                var (first4, next4) = Vector256.Widen(Vector256.LoadUnsafe(ref pixels, (nuint)(row + x - MaxLag)));
                low += va * first4;
                high += va * next4;
                last += a * image[row + x + MaxLag];
            }
            var at = (dy + MaxLag) * side;
            low.CopyTo(sums.Slice(at, 4));
            high.CopyTo(sums.Slice(at + 4, 4));
            sums[at + 8] = last;
        }
    }

    /// <summary>eta = sum_lag rho(lag) A_k(lag) / A_k(0) for the kernel (origin at (0, 0) of an m x m grid, wrapped); 1 when rho is null.</summary>
    public static double VarianceFactor(double[]? rho, double[] kernel, int m)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (rho is null) return 1;
        var side = 2 * MaxLag + 1;
        double a0 = 0, sum = 0;
        foreach (var v in kernel) a0 += v * v;
        if (!(a0 > 0)) return 1;
        for (var dy = -MaxLag; dy <= MaxLag; dy++)
            for (var dx = -MaxLag; dx <= MaxLag; dx++)
            {
                var r = rho[(dy + MaxLag) * side + dx + MaxLag];
                if (dx == 0 && dy == 0) { sum += a0; continue; }
                double a = 0;
                for (var y = 0; y < m; y++)
                {
                    var y2 = ((y + dy) % m + m) % m;
                    for (var x = 0; x < m; x++) a += kernel[y * m + x] * kernel[y2 * m + ((x + dx) % m + m) % m];
                }
                sum += r * a;
            }
        // A sum of variances is never below the part the lag 0 alone carries times the smallest sensible share.
        return Math.Max(sum / a0, 0.1);
    }

    /// <summary>
    /// The variance map with its part above the sky's clipped median averaged over 3 x 3 (NaN pixels left out, and kept
    /// NaN), so that no pixel's variance follows its own noise; a star's variance is spread over its 3 x 3 core, which
    /// ZOGY's kernel sums (a few pixels wide) hardly tell apart.
    /// </summary>
    public static float[] Decoupled(float[] variance, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(variance);
        var stride = Math.Max(1, variance.Length >> 20) | 1;
        var sample = new float[(variance.Length + stride - 1) / stride];
        for (var k = 0; k < sample.Length; k++) sample[k] = variance[(long)k * stride];
        var sky = (float)RobustStatistics.SigmaClip(sample).Median;
        var result = new float[variance.Length];
        Parallel.For(0, height, y =>
        {
            var interior = y > 0 && y < height - 1;
            // Interior pixels four at a time where vectors are fast (the same terms, in the same order, per lane); the
            // loop below does the rest, skipping from x = 1 to where the blocks ended.
            var blocksEnd = 1;
            if (interior && Vector256.IsHardwareAccelerated)
                for (; blocksEnd + 4 <= width - 1; blocksEnd += 4) DecoupledBlock(variance, result, y * width + blocksEnd, width, sky);
            for (var x = 0; x < width; x++)
            {
                if (x == 1) x = blocksEnd;
                var i = y * width + x;
                if (!float.IsFinite(variance[i])) { result[i] = float.NaN; continue; }
                if (interior && x > 0 && x < width - 1)
                {
                    // The same nine terms in the same order as the general loop below, without its clamps.
                    var (sumInterior, nInterior) = (0.0, 0);
                    for (var j = i - width; j <= i + width; j += width)
                    {
                        var (a0, a1, a2) = (variance[j - 1], variance[j], variance[j + 1]);
                        if (float.IsFinite(a0)) { sumInterior += a0 - sky; nInterior++; }
                        if (float.IsFinite(a1)) { sumInterior += a1 - sky; nInterior++; }
                        if (float.IsFinite(a2)) { sumInterior += a2 - sky; nInterior++; }
                    }
                    result[i] = (float)(sky + Math.Max(0, sumInterior / nInterior));
                    continue;
                }
                double sum = 0;
                var n = 0;
                for (var j = Math.Max(0, y - 1); j <= Math.Min(height - 1, y + 1); j++)
                    for (var a = Math.Max(0, x - 1); a <= Math.Min(width - 1, x + 1); a++)
                    {
                        var v = variance[j * width + a];
                        if (!float.IsFinite(v)) continue;
                        sum += v - sky;
                        n++;
                    }
                result[i] = (float)(sky + Math.Max(0, sum / n));
            }
        });
        return result;
    }

    /// <summary>
    /// <see cref="Decoupled"/> for the four interior pixels from index i: each lane adds the nine (value - sky) terms
    /// of its 3 x 3 box in the scalar loop's order, the difference taken in float and summed in double as there, so
    /// the result is the same to the bit.
    /// </summary>
    private static void DecoupledBlock(float[] variance, float[] result, int i, int width, float sky)
    {
        ref var v = ref MemoryMarshal.GetArrayDataReference(variance);
        var skyF = Vector128.Create(sky);
        var infinity = Vector256.Create(double.PositiveInfinity);
        var (sum, n) = (Vector256<double>.Zero, Vector256<double>.Zero);
        for (var j = i - width; j <= i + width; j += width)
            for (var d = -1; d <= 1; d++)
            {
                var a = Vector128.LoadUnsafe(ref v, (nuint)(j + d));
                var finite = Vector256.LessThan(Vector256.Abs(Widen(a)), infinity);
                sum = Vector256.ConditionalSelect(finite, sum + Widen(a - skyF), sum);
                n = Vector256.ConditionalSelect(finite, n + Vector256<double>.One, n);
            }
        // A lane whose own pixel is not finite has NaN here (possibly 0 / 0) and is set to NaN below, as in the scalar loop.
        var value = Vector256.Create((double)sky) + Vector256.Max(Vector256<double>.Zero, sum / n);
        var narrowed = Vector128.Narrow(value.GetLower(), value.GetUpper());
        var centre = Vector128.LoadUnsafe(ref v, (nuint)i);
        var centreFinite = Vector128.LessThan(Vector128.Abs(centre), Vector128.Create(float.PositiveInfinity));
        Vector128.ConditionalSelect(centreFinite, narrowed, Vector128.Create(float.NaN))
            .StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(result), (nuint)i);

        static Vector256<double> Widen(Vector128<float> values) => Vector256.Create(Vector128.WidenLower(values), Vector128.WidenUpper(values));
    }
}
