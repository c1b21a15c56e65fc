using Rapid.Core.Sky;
using Rapid.Pipeline.Simulation;

namespace Rapid.Cli.Bench;

/// <summary>What false detections sit on (the nearest constant truth object within the false-match radius) and how many.</summary>
public sealed record FalseDetectionSite(string What, int Count);

/// <summary>
/// The quality figures of one difference against the simulator's truth, issue 4's and issue 11's. Completeness counts
/// true sources of true S/N >= 10 (issue 4) or >= 7 (issue 11) found within 1 px with the right sign; Magnitude50 is the
/// magnitude of |true difference| at which a logistic fitted to found / missed reaches 50 % and Limit5Sigma the zero
/// point less 2.5 log10(5 x the PSF-fit noise on the sky alone, <see cref="PsfFluxNoise.Background"/>); the flux error is the median
/// |FLUX/true − 1| of the found ones of S/N >= 20; the pull rms is over the found ones of S/N >= 10; false detections
/// are per 10^6 unmasked pixels, without the rows flagged near a saturated star (issue 4) and counting every row
/// (issue 11, <see cref="FalseEveryRowPerMegapixel"/>); the astrometric error is the angle between a found row's RA/Dec
/// and the truth's, in pixels, median over S/N >= 20. Snr10MissedAboveThreshold counts the missed S/N >= 10 sources
/// whose S_corr does reach the detection threshold within 1 px: it tells a detector that drops them from a score that
/// never showed them. MedianFluxRatio (FLUX/true, S/N >= 20) and PullMean say how much of the flux error and pull rms is
/// a bias rather than scatter.
/// </summary>
public sealed record DifferenceQualityFigures(
    int TrueSources,
    int Snr10Sources, int Snr10Found, int Snr10MissedAboveThreshold, double DetectionThresholdSigma,
    int Snr20Found, double MedianAbsoluteFluxError, double MedianFluxRatio,
    int PullSources, double PullRms, double PullMean,
    int FalseDetections, int NearSaturatedDetections, double UnmaskedMegapixels, IReadOnlyList<FalseDetectionSite> FalseSites,
    ScoreStatistics Score)
{
    public int Snr7Sources { get; init; }
    public int Snr7Found { get; init; }
    public double Magnitude50 { get; init; } = double.NaN;
    public double Limit5Sigma { get; init; } = double.NaN;
    public int AstrometrySources { get; init; }
    public double MedianAstrometricErrorPixels { get; init; } = double.NaN;

    public double Completeness => Snr10Sources == 0 ? double.NaN : Snr10Found / (double)Snr10Sources;
    public double Completeness7 => Snr7Sources == 0 ? double.NaN : Snr7Found / (double)Snr7Sources;
    public double FalseDetectionsPerMegapixel => UnmaskedMegapixels > 0 ? FalseDetections / UnmaskedMegapixels : double.NaN;
    public double FalseEveryRowPerMegapixel => UnmaskedMegapixels > 0 ? (FalseDetections + NearSaturatedDetections) / UnmaskedMegapixels : double.NaN;
}

/// <summary>
/// Scores a difference's detections against its true changing sources: one-to-one matching, closest pairs first,
/// within <see cref="MatchRadiusPixels"/> and with the sign of the true difference (a variable fainter than in the
/// reference must come back negative). A detection is false when no true changing source of any S/N lies within
/// <see cref="FalseMatchRadiusPixels"/> (a faint transient found is not false) and it is not flagged near a saturated
/// star (FLAGS &amp; 2), as in Rapid.Pipeline.Tests' DifferenceImagingQualityTests.
/// </summary>
public static class DifferenceQuality
{
    public const double MatchRadiusPixels = 1.0;
    public const double FalseMatchRadiusPixels = 3.0;
    public const double BrightStarMag = 20;

    /// <param name="truth">True changing sources with their noise (<see cref="TrueDifferenceSource.NoiseDnPerSecond"/>).</param>
    /// <param name="constant">Stars and galaxies of the science epoch, to say what false detections sit on.</param>
    /// <param name="unmaskedPixels">Pixels of the difference that are not masked (finite S_corr).</param>
    /// <param name="zeroPointMag">AB magnitude of 1 DN/s of D (for the completeness magnitude and the limit; NaN: not measured).</param>
    /// <param name="pixelScaleArcsec">The science grid's pixel scale (for the RA/Dec error in pixels; NaN: not measured).</param>
    /// <param name="backgroundNoiseDnPerSecond">The PSF-fit noise of a source on the sky alone (the 5 sigma limit's; NaN: the
    /// median of the true sources' own noise, which their light and their hosts' raise, so that the limit came out too bright
    /// and m50 minus it too faint: +0.85 mag at full size).</param>
    public static DifferenceQualityFigures Measure(IReadOnlyList<TrueDifferenceSource> truth, IReadOnlyList<DifferenceDetection> detections,
        IReadOnlyList<TruthRow> constant, long unmaskedPixels, ScoreStatistics score, double detectionThresholdSigma = double.NaN,
        double zeroPointMag = double.NaN, double pixelScaleArcsec = double.NaN, double backgroundNoiseDnPerSecond = double.NaN)
    {
        var match = Match(truth, detections);
        var found = truth.Select((t, i) => (Truth: t, Found: match[i] >= 0 ? detections[match[i]] : null)).ToList();

        var snr10 = found.Where(f => f.Truth.TrueSignalToNoise >= 10).ToList();
        var fluxRatios = found.Where(f => f.Found is not null && f.Truth.TrueSignalToNoise >= 20)
            .Select(f => f.Found!.Flux / f.Truth.DifferenceFluxDnPerSecond).ToList();
        var fluxErrors = fluxRatios.Select(r => Math.Abs(r - 1)).ToList();
        var pulls = snr10.Where(f => f.Found is { FluxError: > 0 })
            .Select(f => (f.Found!.Flux - f.Truth.DifferenceFluxDnPerSecond) / f.Found.FluxError).ToList();

        var unexplained = detections.Where(d => !truth.Any(t => Distance(d, t.X, t.Y) <= FalseMatchRadiusPixels)).ToList();
        var nearSaturated = unexplained.Count(d => d.NearSaturated);
        var falseDetections = unexplained.Where(d => !d.NearSaturated).ToList();
        var sites = falseDetections.GroupBy(d => SiteOf(d, constant)).OrderByDescending(g => g.Count())
            .Select(g => new FalseDetectionSite(g.Key, g.Count())).ToList();

        var missedAboveThreshold = snr10.Count(f => f.Found is null && f.Truth.PeakScoreSigma >= detectionThresholdSigma);
        var snr7 = found.Where(f => f.Truth.TrueSignalToNoise >= 7).ToList();
        var measurable = found.Where(f => double.IsFinite(f.Truth.NoiseDnPerSecond)).ToList();
        var mags = measurable.Select(f => zeroPointMag - 2.5 * Math.Log10(Math.Abs(f.Truth.DifferenceFluxDnPerSecond))).ToArray();
        var limitNoise = double.IsFinite(backgroundNoiseDnPerSecond) ? backgroundNoiseDnPerSecond : Median(measurable.Select(f => f.Truth.NoiseDnPerSecond).ToList());
        var limit = zeroPointMag - 2.5 * Math.Log10(5 * limitNoise);
        var astrometry = found.Where(f => f.Found is not null && f.Truth.TrueSignalToNoise >= 20)
            .Select(f => SphericalGeometry.AngularSeparationDeg(f.Found!.RaDeg, f.Found.DecDeg, f.Truth.RaDeg, f.Truth.DecDeg) * 3600 / pixelScaleArcsec)
            .Where(double.IsFinite).ToList();
        return new DifferenceQualityFigures(truth.Count, snr10.Count, snr10.Count(f => f.Found is not null), missedAboveThreshold, detectionThresholdSigma,
            fluxErrors.Count, Median(fluxErrors), Median(fluxRatios),
            pulls.Count, pulls.Count == 0 ? double.NaN : Math.Sqrt(pulls.Average(p => p * p)), pulls.Count == 0 ? double.NaN : pulls.Average(),
            falseDetections.Count, nearSaturated, unmaskedPixels / 1e6, sites, score)
        {
            Snr7Sources = snr7.Count,
            Snr7Found = snr7.Count(f => f.Found is not null),
            Magnitude50 = double.IsFinite(zeroPointMag)
                ? ImageSets.ImageSetScorer.CompletenessMagnitude(mags, [.. measurable.Select(f => f.Found is not null)], 0.5) : double.NaN,
            Limit5Sigma = limit,
            AstrometrySources = astrometry.Count,
            MedianAstrometricErrorPixels = Median(astrometry),
        };
    }

    /// <summary>For each true source, the index of its detection or -1.</summary>
    public static int[] Match(IReadOnlyList<TrueDifferenceSource> truth, IReadOnlyList<DifferenceDetection> detections)
    {
        var pairs = new List<(int T, int D, double Distance)>();
        for (var t = 0; t < truth.Count; t++)
            for (var d = 0; d < detections.Count; d++)
            {
                var distance = Distance(detections[d], truth[t].X, truth[t].Y);
                if (distance <= MatchRadiusPixels && detections[d].Sign == Math.Sign(truth[t].DifferenceFluxDnPerSecond))
                    pairs.Add((t, d, distance));
            }
        var matchOf = Enumerable.Repeat(-1, truth.Count).ToArray();
        var used = new bool[detections.Count];
        foreach (var (t, d, _) in pairs.OrderBy(p => p.Distance))
        {
            if (matchOf[t] >= 0 || used[d]) continue;
            matchOf[t] = d;
            used[d] = true;
        }
        return matchOf;
    }

    private static string SiteOf(DifferenceDetection d, IReadOnlyList<TruthRow> constant)
    {
        TruthRow? nearest = null;
        var best = FalseMatchRadiusPixels;
        foreach (var row in constant)
        {
            var distance = Distance(d, row.X, row.Y);
            if (distance <= best) (nearest, best) = (row, distance);
        }
        return nearest switch
        {
            null => $"nothing within {FalseMatchRadiusPixels:0} px (noise, cosmic ray, bad pixel)",
            { Type: SkyObjectType.Galaxy } => "a galaxy",
            { Mag: < BrightStarMag } => $"a star brighter than {BrightStarMag:0} mag",
            _ => $"a star of {BrightStarMag:0} mag or fainter",
        };
    }

    private static double Distance(DifferenceDetection d, double x, double y) => Math.Sqrt((d.X - x) * (d.X - x) + (d.Y - y) * (d.Y - y));

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        values.Sort();
        var n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
