using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Tests.Imaging;

public class FluxMatcherTests
{
    [Fact]
    public void Takes_the_median_flux_ratio_and_position_offsets_of_matched_stars()
    {
        var reference = Enumerable.Range(0, 10).Select(i => new MeasuredStar(10 * i, 5 * i, 100 + i, 1, 2)).ToList();
        var science = reference.Select(r => r with { X = r.X + 0.2, Y = r.Y - 0.1, Flux = 2 * r.Flux }).ToList();
        science[0] = science[0] with { Flux = 10000 }; // a variable star does not move the median

        var match = FluxMatcher.Match(science, reference, fallbackScale: 1);

        Assert.True(match.Matched);
        Assert.Equal(10, match.MatchedStars);
        // To 1e-4: each log ratio carries its second-order bias correction (e_S^2 - e_R^2)/2 for these 0.5-1 % errors.
        Assert.Equal(2.0, match.Scale, 2e-4);
        Assert.Equal(0.2, match.DxMedian, 4);
        Assert.Equal(-0.1, match.DyMedian, 4);
        // The offset is applied (as a phase ramp) before ZOGY, so what registration leaves is the scatter about it: none here.
        Assert.Equal(0.0, match.DxRms, 3);
    }

    // 150 stars (flux ratio scatter 3 %, centroid noise 0.03 px), 50 transients on hosts (flux up to 10x, centroid pulled by
    // ~1 px) and 20 galaxies (broad on the reference), as among the matches at 4088^2 (31 transients and 42 galaxies of
    // 122): the old plain rms was ~0.4 px and the plain median ratio 1.1 % high.
    private static (List<MeasuredStar> Science, List<MeasuredStar> Reference) CrowdedField(int seed)
    {
        var random = new Random(seed);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var (science, reference) = (new List<MeasuredStar>(), new List<MeasuredStar>());
        for (var i = 0; i < 220; i++)
        {
            var (x, y, flux) = (40.0 * (i % 10) + 20, 40.0 * (i / 10) + 20, 1000 * Math.Exp(3 * random.NextDouble()));
            var transient = i >= 150 && i < 200;
            var galaxy = i >= 200;
            reference.Add(new MeasuredStar(x + 0.03 * Gauss(), y + 0.03 * Gauss(), flux, flux / 100, galaxy ? 3.5 + random.NextDouble() : 1.75 + 0.05 * Gauss()));
            var (sx, sy, sf) = (x + 0.03 * Gauss(), y + 0.03 * Gauss(), 3300 * flux * (1 + 0.03 * Gauss()));
            if (transient) (sx, sy, sf) = (sx + 0.6 + 0.4 * random.NextDouble(), sy - 0.5 - 0.4 * random.NextDouble(), sf * (1.3 + 9 * random.NextDouble()));
            if (galaxy) (sx, sy) = (sx + 0.2 * Gauss(), sy + 0.2 * Gauss());
            science.Add(new MeasuredStar(sx, sy, sf, sf / 100, 1.75));
        }
        return (science, reference);
    }

    [Fact]
    public void Keeps_transients_and_galaxies_out_of_the_scale_and_the_astrometric_rms()
    {
        var (science, reference) = CrowdedField(seed: 5);

        var match = FluxMatcher.Match(science, reference, fallbackScale: 1);

        Assert.True(match.Matched);
        Assert.Equal(220, match.MatchedStars);
        Assert.Equal(3300, match.Scale, 3300 * 0.007);
        // Two images' centroid noise of 0.03 px each: 0.042 px per axis, less the photon-limited part removed.
        Assert.InRange(match.DxRms, 0.02, 0.06);
        Assert.InRange(match.DyRms, 0.02, 0.06);
        Assert.InRange(match.ConstantStars.Count, 160, 172);
        Assert.InRange(match.PointLike.Count, 140, 152);
    }

    [Fact]
    public void Gives_a_scale_that_does_not_depend_on_which_transients_happened_to_match()
    {
        var (science, reference) = CrowdedField(seed: 6);
        var all = FluxMatcher.Match(science, reference, fallbackScale: 1);
        // Half the transients not matched (as between two near-identical runs, 140 vs 122 matches).
        var fewer = FluxMatcher.Match(science.Where((_, i) => i < 150 || i >= 175).ToList(), reference, fallbackScale: 1);

        Assert.Equal(all.Scale, fewer.Scale, all.Scale * 0.002);
    }

    // Sky-limited stars: each science star's error is an absolute sigma (its aperture's sky noise), 3-15 % of its flux; the
    // deep reference's 0.3 %. Weighting by the error relative to the *measured* science flux gives the stars that
    // fluctuated up more weight: the mean scale came out ~1 % high (2 n sigma_mean^2 of the weighted mean). Over 400
    // fields of 25 stars the mean log error of the scale must stay well below that.
    [Fact]
    public void Gives_an_unbiased_scale_when_the_science_stars_are_faint()
    {
        var random = new Random(11);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        const double trueScale = 2000;
        var logErrors = new List<double>();
        for (var field = 0; field < 400; field++)
        {
            var (science, reference) = (new List<MeasuredStar>(), new List<MeasuredStar>());
            for (var i = 0; i < 25; i++)
            {
                var (x, y) = (40.0 * (i % 5) + 20, 40.0 * (i / 5) + 20);
                var flux = 100 * Math.Exp(1.6 * random.NextDouble());
                var relative = 0.03 * Math.Exp(1.6 * random.NextDouble());
                reference.Add(new MeasuredStar(x, y, flux * (1 + 0.003 * Gauss()), 0.003 * flux, 1.8));
                var sigma = relative * trueScale * flux;
                science.Add(new MeasuredStar(x, y, trueScale * flux + sigma * Gauss(), sigma, 1.8));
            }
            logErrors.Add(Math.Log(FluxMatcher.Match(science, reference, fallbackScale: 1).Scale / trueScale));
        }

        Assert.InRange(logErrors.Average(), -0.002, 0.002);
    }

    [Fact]
    public void Falls_back_when_too_few_stars_match()
    {
        var reference = new[] { new MeasuredStar(10, 10, 100, 1, 2) };
        var science = new[] { new MeasuredStar(50, 50, 100, 1, 2), new MeasuredStar(10.5, 10, 300, 1, 2) };

        var match = FluxMatcher.Match(science, reference, fallbackScale: 1.25);

        Assert.False(match.Matched);
        Assert.Equal(1, match.MatchedStars);
        Assert.Equal(1.25, match.Scale);
    }
}
