using Rapid.Cli.Bench.ImageSets;

namespace Rapid.Cli.Tests.Bench;

/// <summary>The independent-image scorer's figures on cases worked out by hand.</summary>
public sealed class ImageSetScorerTests
{
    private const int Size = 15;

    private static float[] Delta()
    {
        var s = new float[Size * Size];
        s[Size * Size / 2] = 1;
        return s;
    }

    private static float[] Gaussian(double sigma)
    {
        var s = new float[Size * Size];
        double sum = 0;
        for (var j = 0; j < Size; j++)
            for (var i = 0; i < Size; i++) sum += s[j * Size + i] = (float)Math.Exp(-((i - 7) * (i - 7) + (j - 7) * (j - 7)) / (2 * sigma * sigma));
        for (var k = 0; k < s.Length; k++) s[k] /= (float)sum;
        return s;
    }

    [Fact]
    public void Ideal_noise_of_point_like_psfs_adds_the_two_images_noise_in_quadrature()
    {
        Assert.Equal(5.0, IdealDifferenceNoise.Background(Delta(), Delta(), Size, 3, 4), 9);
    }

    [Fact]
    public void Ideal_noise_without_reference_noise_is_the_psf_fit_error()
    {
        var p = Gaussian(1.3);
        var sumSq = p.Sum(v => v * (double)v);
        Assert.Equal(2 / Math.Sqrt(sumSq), IdealDifferenceNoise.Background(p, Gaussian(0.9), Size, 2, 0), 6);
    }

    [Fact]
    public void A_source_adds_its_own_poisson_noise()
    {
        // Delta PSF: variance = sigma^2 + f / (g t) - sigma^2.
        Assert.Equal(100.0 / 50, IdealDifferenceNoise.SourceVariance(Delta(), 1, 100, 50), 9);
        Assert.Equal(0, IdealDifferenceNoise.SourceVariance(Delta(), 1, 0, 50));
    }

    [Fact]
    public void The_completeness_magnitude_recovers_a_logistic_it_was_drawn_from()
    {
        var random = new Random(5);
        var mags = Enumerable.Range(0, 4000).Select(_ => 22 + 4 * random.NextDouble()).ToArray();
        var found = mags.Select(m => random.NextDouble() < 1 / (1 + Math.Exp((m - 24.3) / 0.15))).ToArray();
        Assert.InRange(ImageSetScorer.CompletenessMagnitude(mags, found, 0.5), 24.27, 24.33);
    }

    // Four sets of 150 changes (S/N 2-300, as the bench's), each with its own 5 sigma limit, drawn from a completeness
    // that reaches 50 % 0.15 mag brighter than the limit: the pooled fit finds that offset, with an error half of one set's.
    [Fact]
    public void The_pooled_completeness_magnitude_fits_every_sets_changes_relative_to_its_own_limit()
    {
        var random = new Random(9);
        var sets = new[] { 25.0, 25.4, 24.8, 25.9 }.Select(limit =>
        {
            var sample = Enumerable.Range(0, 150).Select(_ =>
            {
                var below = 2.5 * Math.Log10(5 / (2 * Math.Exp(Math.Log(150) * random.NextDouble())));
                return (below, random.NextDouble() < 1 / (1 + Math.Exp((below + 0.15) / 0.12)), false);
            }).ToList();
            return new ScienceQuality("set", 150, 0, 0, limit - 0.15, limit, 0, double.NaN, double.NaN, 0, double.NaN, double.NaN,
                0, 0, 0, 0, [], 0, double.NaN) { CompletenessSample = sample };
        }).ToList();
        var single = ImageSetScorer.CompletenessMagnitudeError(sets[0].CompletenessSample.Select(x => x.MagnitudeBelowLimit).ToArray(),
            sets[0].CompletenessSample.Select(x => x.Found).ToArray());

        var (value, error) = ImageSetScorer.PooledMagnitude50BelowLimit(sets);

        Assert.True(Math.Abs(value + 0.15) <= 3 * error, $"pooled m50 - limit {value:F3} ± {error:F3}, drawn at -0.150");
        Assert.InRange(error, 0.3 * single, 0.7 * single);
    }

    [Fact]
    public void The_empty_sky_completeness_magnitude_leaves_out_the_changes_of_stars()
    {
        // Transients on empty sky reach 50 % at the limit; variables of bright stars are found only 1 mag brighter (their
        // host's noise): together the curve's 50 % point moves bright, on empty sky alone it does not.
        var random = new Random(5);
        var sample = Enumerable.Range(0, 2000).Select(k =>
        {
            var onStar = k % 5 == 0;
            var below = -2 + 2.5 * random.NextDouble();
            var centre = onStar ? -1.0 : 0.0;
            return (below, random.NextDouble() < 1 / (1 + Math.Exp((below - centre) / 0.1)), onStar);
        }).ToList();
        var set = new ScienceQuality("set", sample.Count, 0, 0, 0, 0, 0, double.NaN, double.NaN, 0, double.NaN, double.NaN,
            0, 0, 0, 0, [], 0, double.NaN) { CompletenessSample = sample };

        var (all, _) = ImageSetScorer.PooledMagnitude50BelowLimit([set]);
        var (sky, skyError) = ImageSetScorer.PooledMagnitude50BelowLimit([set], emptySkyOnly: true);

        Assert.True(Math.Abs(sky) <= 3 * skyError, $"empty-sky m50 - limit {sky:F3} ± {skyError:F3}, drawn at 0");
        Assert.True(all < sky - 0.05, $"with the variables {all:F3}, empty sky {sky:F3}");
    }

    [Fact]
    public void The_pooled_pull_weighs_each_set_by_its_number_of_pulls()
    {
        ScienceQuality Set(int pulls, double rms, double mean) => new("set", 150, 0, 0, 0, 0, 0, double.NaN, double.NaN, pulls, rms, mean,
            0, 0, 0, 0, [], 0, double.NaN);

        var (rms, mean, count) = ImageSetScorer.PooledPull([Set(100, 1.0, 0.1), Set(300, 2.0, -0.3), Set(0, double.NaN, double.NaN)]);

        Assert.Equal(400, count);
        Assert.Equal(Math.Sqrt((100 * 1.0 + 300 * 4.0) / 400), rms, 9);
        Assert.Equal((100 * 0.1 - 300 * 0.3) / 400, mean, 9);
    }

    [Fact]
    public void Scores_matches_flux_pulls_false_rows_edges_and_astrometry_against_the_truth()
    {
        // Noise 1 DN/s through delta PSFs, so the true S/N is the flux; zero point 25.
        var manifest = new ImageSetManifest
        {
            Renderer = "test", Science = "", References = [], Truth = "", ScienceStamps = "", ReferenceStamps = "", Coverage = "",
            ScienceNoise = 1, ReferenceNoise = 0, ZeroPoint = 25, PixelScaleArcsec = 0.11,
        };
        TrueChange Change(long id, double x, double y, double flux) => new(id, "transient", 10 + x * 1e-4, 2 + y * 1e-4, x, y, flux, 0, Delta(), Delta());
        var changes = new[] { Change(1, 30, 30, 100), Change(2, 60, 30, 40), Change(3, 30, 60, 8), Change(4, 60, 60, -20) };
        var coverage = Enumerable.Repeat(4f, 100 * 100).ToArray();
        var set = new ImageSet("", manifest, changes, [new TrueStar(9, 0, 0, 80, 80, 1000, Saturated: true)], coverage, 100, 100, Size);
        DeliveredRow Row(double x, double y, double flux, double err, int sign) => new(x, y, 10 + x * 1e-4, 2 + y * 1e-4, flux, err, sign, 0);
        var rows = new[]
        {
            Row(30.2, 30, 102, 2, +1),      // S/N 100: +2 %, pull 1
            Row(60, 30.5, 39.2, 0.8, +1),   // S/N 40: -2 %, pull -1
            // change 3 (S/N 8) missed; change 4 (negative) found only with sign -1:
            Row(60, 60, -21, 1, -1),        // S/N 20: -5 % ... |ratio - 1| = 0.05, pull -1
            Row(30, 61.5, 5, 1, +1),        // 1.5 px from change 3: neither found nor false
            Row(82, 80, 50, 5, +1),         // by the saturated star: false
            Row(3, 50, 10, 2, +1),          // 3 px from the border: false, along an edge
        };

        var q = ImageSetScorer.Score(set, rows, 10_000);

        Assert.Equal(4, q.Snr7Sources);
        Assert.Equal(3, q.Snr7Found);
        Assert.Equal((3, 4), q.SnrAtLeast8OnEmptySky);
        Assert.Equal((0, 0), q.SnrAtLeast8OnStar);
        Assert.Equal(3, q.FluxSources);                         // S/N 100, 40, 20
        Assert.Equal(0.02, q.MedianAbsoluteFluxError, 9);       // |0.02|, |-0.02|, |0.05|
        Assert.Equal(3, q.PullSources);
        Assert.Equal(1.0, q.PullRms, 9);
        Assert.Equal(2, q.FalseDetections);
        Assert.Equal(1, q.FalseAlongCoverageEdges);
        Assert.Equal(200, q.FalsePerMegapixel, 9);
        Assert.Contains(q.FalseSites, s => s.What.Contains("saturated star") && s.Count == 1);
        // Astrometry over the found at S/N >= 20 (all three); RA/Dec here move 1e-4 deg per pixel, so the median is 0.2e-4 deg (row 1), in pixels of 0.11".
        Assert.Equal(3, q.AstrometrySources);
        Assert.InRange(q.MedianAstrometricErrorPixels, 0.2e-4 * 3600 / 0.11 * 0.99, 0.2e-4 * 3600 / 0.11 * 1.01);
        Assert.False(q.Targets.Single(t => t.Measure.StartsWith("completeness", StringComparison.Ordinal)).Met);
    }
}
