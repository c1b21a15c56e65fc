using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Rapid.Pipeline.Imaging;

/// <summary>Sigma-clipped statistics of a pixel sample, NaN ignored.</summary>
public readonly record struct ClippedStatistics(double Mean, double Median, double Sigma, int Count)
{
    public static ClippedStatistics Empty { get; } = new(double.NaN, double.NaN, double.NaN, 0);
}

/// <summary>
/// Robust statistics over pixel samples, in the manner of astropy's <c>sigma_clipped_stats</c>
/// (median-centred clipping, iterated until nothing more is rejected). NaN values are ignored.
/// </summary>
public static class RobustStatistics
{
    /// <summary>Median of the finite values; NaN when there are none. Does not modify the input.</summary>
    public static double Median(ReadOnlySpan<float> values)
    {
        var finite = Finite(values);
        return finite.Length == 0 ? double.NaN : MedianInPlace(finite);
    }

    /// <summary>The p-th percentile (0..100, linear interpolation) of the finite values; NaN when there are none.</summary>
    public static double Percentile(ReadOnlySpan<float> values, double p)
    {
        var finite = Finite(values);
        if (finite.Length == 0) return double.NaN;
        var pos = Math.Clamp(p, 0, 100) / 100.0 * (finite.Length - 1);
        var lo = (int)Math.Floor(pos);
        var low = Select(finite, lo);
        if (lo + 1 >= finite.Length) return low;
        // After the selection everything right of lo is >= it: the next rank is their minimum.
        var high = float.PositiveInfinity;
        for (var i = lo + 1; i < finite.Length; i++) if (finite[i] < high) high = finite[i];
        return low + (pos - lo) * (high - low);
    }

    /// <summary>
    /// Mean, median and standard deviation after rejecting values more than <paramref name="nSigma"/>
    /// standard deviations from the median, repeated up to <paramref name="maxIterations"/> times.
    /// </summary>
    public static ClippedStatistics SigmaClip(ReadOnlySpan<float> values, double nSigma = 3.0, int maxIterations = 5)
    {
        var kept = Finite(values);
        if (kept.Length == 0) return ClippedStatistics.Empty;
        // The pool keeps what it is given back: right for a cell's worth, not for a whole image's 64-196 MB.
        if (kept.Length > PooledMaxCount) return SigmaClipInPlace(kept, new float[kept.Length], nSigma, maxIterations);
        var work = ArrayPool<float>.Shared.Rent(kept.Length);
        try
        {
            return SigmaClipInPlace(kept, work, nSigma, maxIterations);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(work);
        }
    }

    private const int PooledMaxCount = 1 << 20;

    /// <summary>
    /// <see cref="SigmaClip"/> of values that are all finite, reusing the caller's buffers (the mesh background calls
    /// it once per cell): <paramref name="kept"/> is compacted in place, <paramref name="work"/> (at least as long) holds
    /// the copy each median is selected in.
    /// </summary>
    internal static ClippedStatistics SigmaClipInPlace(Span<float> kept, Span<float> work, double nSigma = 3.0, int maxIterations = 5)
    {
        var n = kept.Length;
        if (n == 0) return ClippedStatistics.Empty;
        RadixSort(kept, work);
        return SigmaClipSorted(kept, nSigma, maxIterations);
    }

    /// <summary>The clipping iteration as stated: each median selected anew in a copy of what is kept.</summary>
    internal static ClippedStatistics SigmaClipBySelection(Span<float> kept, Span<float> work, double nSigma, int maxIterations)
    {
        var n = kept.Length;
        double median = 0, mean = 0, sigma = 0;
        for (var iteration = 0; iteration <= maxIterations; iteration++)
        {
            (mean, sigma) = MeanAndSigma(kept[..n]);
            kept[..n].CopyTo(work);
            median = MedianInPlace(work[..n]);
            if (iteration == maxIterations || sigma == 0) break;
            var lo = median - nSigma * sigma;
            var hi = median + nSigma * sigma;
            var m = 0;
            for (var i = 0; i < n; i++)
                if (kept[i] >= lo && kept[i] <= hi) kept[m++] = kept[i];
            if (m == n || m == 0) break;
            n = m;
        }
        return new ClippedStatistics(mean, median, sigma, n);
    }

    // The same iteration on sorted values (the caller sorts): what survives a clip around the median is a contiguous range
    // of them, so each median is read off the middle of the range and the clip moves its two ends inwards; only the mean
    // and sigma loop.
    internal static ClippedStatistics SigmaClipSorted(Span<float> values, double nSigma, int maxIterations)
    {
        int a = 0, b = values.Length;
        double median = 0, mean = 0, sigma = 0;
        for (var iteration = 0; iteration <= maxIterations; iteration++)
        {
            var range = values[a..b];
            (mean, sigma) = MeanAndSigma(range);
            var half = range.Length / 2;
            median = range.Length % 2 == 1 ? range[half] : 0.5 * (range[half - 1] + range[half]);
            if (iteration == maxIterations || sigma == 0) break;
            var lo = median - nSigma * sigma;
            var hi = median + nSigma * sigma;
            var first = a;
            while (first < b && values[first] < lo) first++;
            var last = b;
            while (last > first && values[last - 1] > hi) last--;
            var m = last - first;
            if (m == b - a || m == 0) break;
            (a, b) = (first, last);
        }
        return new ClippedStatistics(mean, median, sigma, b - a);
    }

    /// <summary>
    /// Sorts finite floats ascending with a least-significant-digit radix sort over order-preserving integer keys
    /// (<see cref="RadixSortKeys{T}"/>), in O(n) where comparison sorts take O(n log n): a mesh cell's 4096 values, or a
    /// whole co-add's 16.7 million. <paramref name="work"/> is scratch of at least the same length.
    /// </summary>
    internal static void RadixSort(Span<float> values, Span<float> work)
    {
        var n = values.Length;
        if (n < 2) return;
        var keys = MemoryMarshal.Cast<float, uint>(values);
        // IEEE-754 bits to keys that order as the floats do: flip the sign bit of positives, every bit of negatives.
        for (var i = 0; i < n; i++) keys[i] = (keys[i] & 0x8000_0000u) != 0 ? ~keys[i] : keys[i] ^ 0x8000_0000u;
        RadixSortKeys(keys, MemoryMarshal.Cast<float, uint>(work[..n]));
        for (var i = 0; i < n; i++) keys[i] = (keys[i] & 0x8000_0000u) != 0 ? keys[i] ^ 0x8000_0000u : ~keys[i];
    }

    /// <summary>
    /// Sorts unsigned integer keys ascending, least significant byte first (one stable counting pass per byte, the
    /// histograms of all bytes counted in one pass beforehand; a pass whose byte is the same in every key is skipped).
    /// <paramref name="scratch"/> is at least as long as the keys.
    /// </summary>
    internal static void RadixSortKeys<T>(Span<T> keys, Span<T> scratch) where T : unmanaged, IBinaryInteger<T>, IUnsignedNumber<T>
    {
        var n = keys.Length;
        if (n < 2) return;
        var bytes = Unsafe.SizeOf<T>();
        var mask = T.CreateTruncating(0xFF);
        Span<int> counts = stackalloc int[bytes * 256];
        counts.Clear();
        foreach (var k in keys)
            for (var d = 0; d < bytes; d++) counts[(d << 8) | int.CreateTruncating((k >>> (8 * d)) & mask)]++;
        var src = keys;
        var dst = scratch[..n];
        var swapped = false;
        for (var d = 0; d < bytes; d++)
        {
            var digit = counts.Slice(d << 8, 256);
            var shift = 8 * d;
            if (digit[int.CreateTruncating((src[0] >>> shift) & mask)] == n) continue; // every key has this byte: already in order
            var sum = 0;
            for (var b = 0; b < 256; b++) (digit[b], sum) = (sum, sum + digit[b]);
            foreach (var k in src) dst[digit[int.CreateTruncating((k >>> shift) & mask)]++] = k;
            var t = src;
            src = dst;
            dst = t;
            swapped = !swapped;
        }
        if (swapped) src.CopyTo(keys);
    }

    /// <summary>Median of a scratch array that may be reordered (quickselect).</summary>
    public static double MedianInPlace(Span<float> values)
    {
        var n = values.Length;
        if (n == 0) return double.NaN;
        if (n <= 16)
        {
            // A co-add stack or a 3 x 3 filter window: insertion sort beats the partitioning of quickselect.
            for (var i = 1; i < n; i++)
            {
                var v = values[i];
                var j = i - 1;
                while (j >= 0 && values[j] > v) { values[j + 1] = values[j]; j--; }
                values[j + 1] = v;
            }
            return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
        }
        var upper = Select(values, n / 2);
        if (n % 2 == 1) return upper;
        // The lower middle value is the maximum of the left partition.
        var lower = float.NegativeInfinity;
        for (var i = 0; i < n / 2; i++) if (values[i] > lower) lower = values[i];
        return 0.5 * (lower + upper);
    }

    private static (double Mean, double Sigma) MeanAndSigma(ReadOnlySpan<float> values)
    {
        double sum = 0, sum2 = 0;
        foreach (var v in values) sum += v;
        var mean = sum / values.Length;
        foreach (var v in values) sum2 += (v - mean) * (v - mean);
        return (mean, values.Length > 1 ? Math.Sqrt(sum2 / (values.Length - 1)) : 0);
    }

    private static float[] Finite(ReadOnlySpan<float> values)
    {
        var count = 0;
        foreach (var v in values) if (float.IsFinite(v)) count++;
        var result = new float[count];
        var j = 0;
        foreach (var v in values) if (float.IsFinite(v)) result[j++] = v;
        return result;
    }

    // Hoare's quickselect: afterwards values[k] is the k-th smallest and values[..k] are all <= it.
    private static float Select(Span<float> values, int k)
    {
        int left = 0, right = values.Length - 1;
        while (left < right)
        {
            var pivot = values[(left + right) >>> 1];
            int i = left, j = right;
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j) { (values[i], values[j]) = (values[j], values[i]); i++; j--; }
            }
            if (k <= j) right = j;
            else if (k >= i) left = i;
            else break;
        }
        return values[k];
    }
}
