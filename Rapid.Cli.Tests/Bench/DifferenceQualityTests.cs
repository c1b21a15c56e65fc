using Rapid.Cli.Bench;
using Rapid.Pipeline.Simulation;

namespace Rapid.Cli.Tests.Bench;

/// <summary>The bench's quality figures on a tiny synthetic truth catalog and detection list, checked by hand.</summary>
public sealed class DifferenceQualityTests
{
    private const double Exptime = 100;   // s: truth FLUX is DN per exposure, the figures DN/s

    private static TruthRow Row(long id, SkyObjectType type, double x, double y, double fluxDnPerSecond, double mag = 21) =>
        new(id, type, 0, 0, x, y, mag, fluxDnPerSecond * Exptime);

    [Fact]
    public void True_difference_is_science_minus_mean_reference_flux_in_dn_per_second()
    {
        var science = new EpochTruth([
            Row(1, SkyObjectType.Transient, 10, 10, 50),
            Row(2, SkyObjectType.Variable, 20, 20, 30),
            Row(3, SkyObjectType.Variable, 30, 30, 10),
            Row(4, SkyObjectType.Star, 40, 40, 99),
            Row(5, SkyObjectType.Transient, 50, 50, 0),   // not yet exploded: no change
        ], Exptime);
        var references = new[]
        {
            new EpochTruth([Row(2, SkyObjectType.Variable, 20, 20, 20), Row(3, SkyObjectType.Variable, 30, 30, 14), Row(4, SkyObjectType.Star, 40, 40, 99)], Exptime),
            new EpochTruth([Row(2, SkyObjectType.Variable, 20, 20, 24), Row(3, SkyObjectType.Variable, 30, 30, 16), Row(4, SkyObjectType.Star, 40, 40, 99)], Exptime),
        };

        var changing = DifferenceTruth.Changing(science, references).ToDictionary(s => s.Id, s => s.DifferenceFluxDnPerSecond);

        Assert.Equal([1L, 2L, 3L], changing.Keys.Order());
        Assert.Equal(50, changing[1], 9);   // transient absent from the reference
        Assert.Equal(8, changing[2], 9);    // 30 - (20 + 24) / 2: brighter now, positive
        Assert.Equal(-5, changing[3], 9);   // 10 - (14 + 16) / 2: fainter now, negative
        Assert.Single(DifferenceTruth.Constant(science));
    }

    [Fact]
    public void Scores_completeness_flux_pulls_and_false_detections_against_the_truth()
    {
        // Noise 1 DN/s each, so true S/N = |true flux|.
        // RA/Dec: 0.1 degree of declination per 100 px, so each source has its own; detections are offset north by a known amount.
        TrueDifferenceSource Truth(long id, double x, double y, double flux, double peakScore = 3) =>
            new(id, SkyObjectType.Transient, x, y, flux, 0, 1, peakScore, RaDeg: 150, DecDeg: 2 + y / 1000);
        const double scale = 0.11;
        DifferenceDetection North(DifferenceDetection d, double trueY, double pixels) => d with { RaDeg = 150, DecDeg = 2 + trueY / 1000 + pixels * scale / 3600 };
        var truth = new[]
        {
            Truth(1, 100, 100, 100), Truth(2, 200, 200, 50), Truth(3, 300, 300, 25),
            Truth(4, 400, 400, 12, peakScore: 6),                   // S/N 12, missed although S_corr reached the threshold
            Truth(5, 500, 500, -30),                                // negative: found only with SIGN -1
            Truth(6, 600, 600, 5),                                  // faint, not found: outside every S/N cut
        };
        var detections = new[]
        {
            North(new DifferenceDetection(100.3, 100.4, 102, 2, 50, +1, 0), 100, 0.05),   // 0.5 px away; +2 %, pull 1; RA/Dec 0.05 px off
            North(new DifferenceDetection(200, 200.9, 49, 1, 40, +1, 0), 200, 0.2),       // 0.9 px; -2 %, pull -1; RA/Dec 0.2 px off
            new DifferenceDetection(301, 300.5, 25, 1, 20, +1, 0),      // 1.1 px: too far to match, not false either (within 3 px)
            North(new DifferenceDetection(500, 500, -31.5, 1.5, 25, -1, 0), 500, 0),      // -5 %, pull -1; RA/Dec exact
            new DifferenceDetection(700, 700, 20, 2, 8, +1, 0),         // on a bright star: false
            new DifferenceDetection(800, 800, 20, 2, 8, -1, 0),         // on nothing: false
            new DifferenceDetection(900, 900, 20, 2, 8, +1, 2),         // near a saturated star: not counted
        };
        var constant = new[] { Row(10, SkyObjectType.Star, 701, 700, 1e4, mag: 17), Row(11, SkyObjectType.Galaxy, 805, 800, 10) };
        var score = new ScoreStatistics(0.01, 1.02, 1000);

        var q = DifferenceQuality.Measure(truth, detections, constant, unmaskedPixels: 2_000_000, score, detectionThresholdSigma: 5,
            zeroPointMag: 26, pixelScaleArcsec: scale);

        Assert.Equal(6, q.TrueSources);
        Assert.Equal((5, 3), (q.Snr10Sources, q.Snr10Found));             // 1, 2, 5 of 1-5
        Assert.Equal(0.6, q.Completeness, 9);
        Assert.Equal(1, q.Snr10MissedAboveThreshold);                      // 4; 3 stayed below 5 sigma
        Assert.Equal(3, q.Snr20Found);
        Assert.Equal(0.02, q.MedianAbsoluteFluxError, 9);                  // median of 2 %, 2 %, 5 %
        Assert.Equal(1.02, q.MedianFluxRatio, 9);                          // median of 1.02, 0.98, 1.05
        Assert.Equal(3, q.PullSources);
        Assert.Equal(1.0, q.PullRms, 9);
        Assert.Equal(-1.0 / 3, q.PullMean, 9);
        Assert.Equal((2, 1), (q.FalseDetections, q.NearSaturatedDetections));
        Assert.Equal(1.0, q.FalseDetectionsPerMegapixel, 9);
        Assert.Equal(["a star brighter than 20 mag", "nothing within 3 px (noise, cosmic ray, bad pixel)"], q.FalseSites.Select(s => s.What).Order());
        Assert.Same(score, q.Score);
        // Issue 11's figures: S/N >= 7 takes in 1-5; every row counts, the one flagged near a saturated star too.
        Assert.Equal((5, 3), (q.Snr7Sources, q.Snr7Found));
        Assert.Equal(1.5, q.FalseEveryRowPerMegapixel, 9);
        Assert.Equal(26 - 2.5 * Math.Log10(5 * 1), q.Limit5Sigma, 9);      // the median noise is 1 DN/s
        // With the sky-alone noise given, the limit is its: the true sources' own noise (raised by their light) is not.
        var onSky = DifferenceQuality.Measure(truth, detections, constant, unmaskedPixels: 2_000_000, score, detectionThresholdSigma: 5,
            zeroPointMag: 26, pixelScaleArcsec: scale, backgroundNoiseDnPerSecond: 0.5);
        Assert.Equal(26 - 2.5 * Math.Log10(5 * 0.5), onSky.Limit5Sigma, 9);
        Assert.True(double.IsNaN(q.Magnitude50));                          // too few sources for the logistic
        Assert.Equal(3, q.AstrometrySources);
        Assert.Equal(0.05, q.MedianAstrometricErrorPixels, 6);             // median of 0.05, 0.2, 0 px
    }

    [Fact]
    public void Matches_each_detection_to_one_true_source_closest_first()
    {
        var truth = new[] { new TrueDifferenceSource(1, SkyObjectType.Transient, 10, 10, 5, 0, 1), new TrueDifferenceSource(2, SkyObjectType.Transient, 10.8, 10, 5, 0, 1) };
        var detections = new[] { new DifferenceDetection(10.7, 10, 5, 1, 5, +1, 0) };

        Assert.Equal([-1, 0], DifferenceQuality.Match(truth, detections));
    }

    [Fact]
    public void Score_statistics_leave_out_sources_masked_pixels_and_outliers()
    {
        const int n = 200;
        var rng = new Random(3);
        var scorr = new float[n * n];
        for (var k = 0; k < scorr.Length; k++)
            scorr[k] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        for (var j = 45; j <= 55; j++)
            for (var i = 45; i <= 55; i++) scorr[j * n + i] = 30;   // a source at FITS (51, 51)
        scorr[150 * n + 150] = float.NaN;
        scorr[10 * n + 180] = 500;                                  // a residual the clipping drops

        var s = ScoreImageStatistics.Measure(scorr, n, n, [(51, 51)], radiusPixels: 8);

        Assert.InRange(s.Mean, -0.02, 0.02);
        Assert.InRange(s.Rms, 0.98, 1.02);
        Assert.True(s.Pixels < n * n - 200, $"{s.Pixels} pixels used");
    }

    [Fact]
    public void Psf_flux_noise_is_the_optimal_fit_error()
    {
        var uncertainty = Enumerable.Repeat(2f, 32 * 32).ToArray();
        var flat = Enumerable.Repeat(1f / 9, 9).ToArray();
        var products = new DifferenceProducts([], 32, 32, new float[32 * 32], uncertainty, flat, 3);

        // 9 pixels of P = 1/9 and sigma 2: (9 (1/81) / 4)^(-1/2) = 6 DN/s, i.e. sigma sqrt(9).
        Assert.Equal(6, PsfFluxNoise.At(products, 16, 16), 5);
    }
}
