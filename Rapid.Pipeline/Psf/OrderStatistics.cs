using System.Buffers;
using System.Runtime.InteropServices;
using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Psf;

/// <summary>
/// The order statistics of the ePSF's residual stacks (<see cref="EffectivePsfBuilder"/>): the sigma-clipped median of a
/// stack and the standard error of a pooled median. Large stacks (a wing annulus pools thousands of samples, and each
/// build updates them every iteration) are sorted by a radix sort in O(n), small ones (a cell's dozen) by the
/// framework's introsort; both give the same ascending order, so the results are those of a comparison sort bit for bit.
/// </summary>
internal static class OrderStatistics
{
    /// <summary>Below this many values the framework's sort (insertion sort and introsort) is the faster.</summary>
    private const int RadixThreshold = 256;

    /// <summary>
    /// Median after iterated clipping at nSigma standard deviations about the median (astropy's SigmaClip with
    /// cenfunc = median, stdfunc = std, as photutils stacks its residuals). Sorts the span: what survives a clip is a
    /// contiguous range of the sorted values, so each round only moves the range's two ends.
    /// </summary>
    internal static double ClippedMedian(Span<double> values, double nSigma)
    {
        Sort(values);
        var (lo, hi) = (0, values.Length);
        for (var iteration = 0; iteration < 10 && hi - lo > 2; iteration++)
        {
            var median = MedianOfSorted(values[lo..hi]);
            double sum = 0, sum2 = 0;
            for (var i = lo; i < hi; i++) sum += values[i];
            var mean = sum / (hi - lo);
            for (var i = lo; i < hi; i++) sum2 += (values[i] - mean) * (values[i] - mean);
            var limit = nSigma * Math.Sqrt(sum2 / (hi - lo));
            var (newLo, newHi) = (lo, hi);
            while (newLo < newHi && values[newLo] < median - limit) newLo++;
            while (newHi > newLo && values[newHi - 1] > median + limit) newHi--;
            if (newLo == lo && newHi == hi) break;
            (lo, hi) = (newLo, newHi);
        }
        return MedianOfSorted(values[lo..hi]);
    }

    /// <summary>
    /// For each pooled sample (in parallel: they are independent), its <see cref="ClippedMedian"/> and that median's
    /// standard error √(π/2) σ / √n, σ from the median absolute deviation about it (1.4826 MAD); NaN for an empty
    /// sample (median) or one of fewer than 2 values (error). The samples are reordered.
    /// </summary>
    internal static (double[] Medians, double[] Errors) PooledMedians(double[][] samples, double nSigma)
    {
        var medians = new double[samples.Length];
        var errors = new double[samples.Length];
        Parallel.For(0, samples.Length, k =>
        {
            var a = samples[k];
            medians[k] = a.Length == 0 ? double.NaN : ClippedMedian(a, nSigma);
            if (a.Length < 2)
            {
                errors[k] = double.NaN;
                return;
            }
            errors[k] = Math.Sqrt(Math.PI / 2) * 1.4826 * MedianAbsoluteDeviationOfSorted(a, medians[k]) / Math.Sqrt(a.Length);
        });
        return (medians, errors);
    }

    /// <summary>
    /// Median of |v − centre| over sorted values, the same as of the sorted deviations: below the centre the deviations
    /// fall and above it they rise, so merging the two runs outwards from the centre lists them in order, in O(n).
    /// </summary>
    internal static double MedianAbsoluteDeviationOfSorted(ReadOnlySpan<double> sorted, double centre)
    {
        var n = sorted.Length;
        if (n == 0) return double.NaN;
        if (!double.IsFinite(centre) || !double.IsFinite(sorted[0]) || !double.IsFinite(sorted[^1])) // NaNs sort first
        {
            var deviations = new double[n];
            for (var i = 0; i < n; i++) deviations[i] = Math.Abs(sorted[i] - centre);
            Sort(deviations);
            return MedianOfSorted(deviations);
        }
        var above = 0;
        while (above < n && sorted[above] < centre) above++;
        var below = above - 1;
        double previous = double.NaN;
        for (var taken = 0; ; taken++)
        {
            double next;
            if (below >= 0 && (above >= n || Math.Abs(sorted[below] - centre) <= Math.Abs(sorted[above] - centre))) next = Math.Abs(sorted[below--] - centre);
            else next = Math.Abs(sorted[above++] - centre);
            if (taken == n / 2) return n % 2 == 1 ? next : 0.5 * (previous + next);
            previous = next;
        }
    }

    /// <summary>Median of sorted values; NaN for none.</summary>
    internal static double MedianOfSorted(ReadOnlySpan<double> sorted)
    {
        var n = sorted.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    /// <summary>
    /// Sorts ascending as <see cref="MemoryExtensions.Sort{T}(Span{T})"/> does (NaNs first), large spans by a
    /// least-significant-digit radix sort over order-preserving integer keys (<see cref="RobustStatistics.RadixSortKeys{T}"/>).
    /// </summary>
    internal static void Sort(Span<double> values)
    {
        if (values.Length < RadixThreshold)
        {
            values.Sort();
            return;
        }
        var finite = values[MoveNaNsFirst(values)..];
        var n = finite.Length;
        var keys = MemoryMarshal.Cast<double, ulong>(finite);
        // IEEE-754 bits to keys that order as the doubles do: flip the sign bit of positives, every bit of negatives.
        for (var i = 0; i < n; i++) keys[i] = (keys[i] & 0x8000_0000_0000_0000ul) != 0 ? ~keys[i] : keys[i] ^ 0x8000_0000_0000_0000ul;
        var scratch = ArrayPool<ulong>.Shared.Rent(n);
        RobustStatistics.RadixSortKeys(keys, scratch.AsSpan(0, n));
        ArrayPool<ulong>.Shared.Return(scratch);
        for (var i = 0; i < n; i++) keys[i] = (keys[i] & 0x8000_0000_0000_0000ul) != 0 ? keys[i] ^ 0x8000_0000_0000_0000ul : ~keys[i];
    }

    /// <summary>Moves the NaNs to the front (as the framework's sort of doubles does first); returns how many there are.</summary>
    private static int MoveNaNsFirst(Span<double> values)
    {
        var front = 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (!double.IsNaN(values[i])) continue;
            (values[front], values[i]) = (values[i], values[front]);
            front++;
        }
        return front;
    }
}
