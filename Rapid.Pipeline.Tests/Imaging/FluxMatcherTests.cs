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
        Assert.Equal(2.0, match.Scale, 6);
        Assert.Equal(0.2, match.DxMedian, 4);
        Assert.Equal(-0.1, match.DyMedian, 4);
        Assert.Equal(0.2, match.DxRms, 4);
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
