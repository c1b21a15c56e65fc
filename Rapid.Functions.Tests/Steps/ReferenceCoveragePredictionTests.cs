using Rapid.Core.Contracts;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Tests.Steps;

public sealed class ReferenceCoveragePredictionTests
{
    /// <summary>A 0.2 x 0.2 deg tile at (ra, dec).</summary>
    private static TileGrid Tile(double ra, double dec) =>
        new() { Field = 1, CenterRaDeg = ra, CenterDecDeg = dec, Naxis1 = 7200, Naxis2 = 7200, PixelScaleArcsec = 0.1 };

    /// <summary>A square footprint of side <paramref name="side"/> deg centred at an offset from (ra, dec), corners in pixel order.</summary>
    private static ReferenceCoveragePrediction.Footprint Square(double ra, double dec, double dx, double dy, double side)
    {
        var h = side / 2;
        var c = Math.Cos(dec * Math.PI / 180);
        return new([(ra + (dx - h) / c, dec + dy - h), (ra + (dx + h) / c, dec + dy - h), (ra + (dx + h) / c, dec + dy + h), (ra + (dx - h) / c, dec + dy + h)]);
    }

    [Theory]
    [InlineData(150.0, 2.0)]
    [InlineData(0.05, -30.0)]   // footprints across RA 0
    [InlineData(10.0, 88.5)]    // near the pole
    public void Counts_the_frames_covering_the_worst_covered_five_percent_of_the_tile(double ra, double dec)
    {
        var tile = Tile(ra, dec);
        var whole = Square(ra, dec, 0, 0, 0.3);
        var centre = Square(ra, dec, 0, 0, 0.1);

        Assert.Equal(0, ReferenceCoveragePrediction.Cov5Percent(tile, []));
        Assert.Equal(1, ReferenceCoveragePrediction.Cov5Percent(tile, [whole]));
        Assert.Equal(3, ReferenceCoveragePrediction.Cov5Percent(tile, [whole, whole, whole]));
        // A quarter of the tile covered: the worst 5 % is not.
        Assert.Equal(0, ReferenceCoveragePrediction.Cov5Percent(tile, [centre, centre]));
        // Four quadrant footprints that overlap in the middle: every point is covered at least once.
        Assert.Equal(1, ReferenceCoveragePrediction.Cov5Percent(tile,
            [Square(ra, dec, -0.05, -0.05, 0.125), Square(ra, dec, 0.05, -0.05, 0.125), Square(ra, dec, 0.05, 0.05, 0.125), Square(ra, dec, -0.05, 0.05, 0.125)]));
    }

    [Fact]
    public void A_footprint_on_the_far_side_of_the_sky_covers_nothing()
    {
        var tile = Tile(100, 0);

        Assert.Equal(0, ReferenceCoveragePrediction.Cov5Percent(tile, [Square(280, 0, 0, 0, 0.3)]));
    }
}
