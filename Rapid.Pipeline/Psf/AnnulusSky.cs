using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Psf;

/// <summary>An annulus' sky two ways: the median of its clipped values, and their mode.</summary>
public readonly record struct AnnulusSkyLevels(double Median, double Mode);

/// <summary>
/// The sky level of an annulus around a star. The values are clipped iteratively at ±3σ around their median
/// (<see cref="RobustStatistics.SigmaClip"/>, as SExtractor clips a background cell, Bertin &amp; Arnouts 1996,
/// A&amp;AS 117, 393, sec. 3.1); their median, and their mode 2.5 × median − 1.5 × mean (SExtractor's estimate for a crowded cell: Pearson's relation
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
        var clipped = RobustStatistics.SigmaClip(values.Select(v => (float)v).ToArray(), ClipSigma, maxIterations: 20);
        return clipped.Count == 0 ? new(double.NaN, double.NaN) : new(clipped.Median, 2.5 * clipped.Median - 1.5 * clipped.Mean);
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
}
