namespace Rapid.Pipeline.Psf;

/// <summary>An annulus' sky two ways: the median of its clipped values, and their mode.</summary>
public readonly record struct AnnulusSkyLevels(double Median, double Mode);

/// <summary>
/// The sky level of an annulus around a star. The values are clipped iteratively at ±3σ around their median until
/// nothing more is clipped (as SExtractor clips a background cell, Bertin &amp; Arnouts 1996, A&amp;AS 117, 393, sec. 3.1);
/// their median, and their mode 2.5 × median − 1.5 × mean (SExtractor's estimate for a crowded cell: Pearson's relation
/// between the mean, median and mode of a skewed distribution, on which DAOPHOT's sky also rests, Stetson 1987, PASP 99,
/// 191). Neighbours' light skews an annulus upwards, and even its clipped median counts part of it as sky; the mode
/// does not, but it is noisier (2.1 against 1.25 σ/√n).
/// </summary>
public static class AnnulusSky
{
    private const double ClipSigma = 3;

    /// <summary>The clipped median and mode of the values (NaN ignored); NaN for both when none is finite.</summary>
    public static AnnulusSkyLevels Estimate(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Where(double.IsFinite).ToArray();
        if (sorted.Length == 0) return new(double.NaN, double.NaN);
        Array.Sort(sorted);
        var (lo, hi) = (0, sorted.Length);
        var (mean, sigma) = MeanAndSigma(sorted, lo, hi);
        while (hi - lo > 2)
        {
            var median = Median(sorted, lo, hi);
            var (newLo, newHi) = (lo, hi);
            while (newLo < newHi && sorted[newLo] < median - ClipSigma * sigma) newLo++;
            while (newHi > newLo && sorted[newHi - 1] > median + ClipSigma * sigma) newHi--;
            if (newLo == lo && newHi == hi) break;
            (lo, hi) = (newLo, newHi);
            (mean, sigma) = MeanAndSigma(sorted, lo, hi);
        }
        var m = Median(sorted, lo, hi);
        return new(m, 2.5 * m - 1.5 * mean);
    }

    /// <summary>
    /// Whether the annuli of one field's stars are skewed upwards by neighbours beyond their noise: the mean over them of
    /// median − mode exceeds 3 of its standard errors (at least 5 annuli). The mean, not the median: a neighbour skews
    /// the few annuli it falls in, and those are what bias the stack.
    /// </summary>
    public static bool IsCrowded(IReadOnlyList<AnnulusSkyLevels> annuli)
    {
        ArgumentNullException.ThrowIfNull(annuli);
        var skews = annuli.Select(a => a.Median - a.Mode).Where(double.IsFinite).ToArray();
        if (skews.Length < 5) return false;
        var mean = skews.Average();
        var sd = Math.Sqrt(skews.Sum(v => (v - mean) * (v - mean)) / (skews.Length - 1));
        return mean > 3 * sd / Math.Sqrt(skews.Length);
    }

    private static (double Mean, double Sigma) MeanAndSigma(double[] sorted, int lo, int hi)
    {
        double sum = 0, sum2 = 0;
        for (var i = lo; i < hi; i++) sum += sorted[i];
        var mean = sum / (hi - lo);
        for (var i = lo; i < hi; i++) sum2 += (sorted[i] - mean) * (sorted[i] - mean);
        return (mean, Math.Sqrt(sum2 / (hi - lo)));
    }

    private static double Median(double[] sorted, int lo, int hi)
    {
        var n = hi - lo;
        return n % 2 == 1 ? sorted[lo + n / 2] : 0.5 * (sorted[lo + n / 2 - 1] + sorted[lo + n / 2]);
    }
}
