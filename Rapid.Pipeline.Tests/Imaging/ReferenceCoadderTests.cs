using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Tests.Support;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Imaging;

public class ReferenceCoadderTests
{
    private const double Scale = 0.5;

    // A 100x100 input whose centre lies at the given 1-based pixel of a 300x300 grid centred on (150, 2).
    private static CalibratedImage Input(CoaddGrid grid, double gridX, double gridY, double starRate)
    {
        var (ra, dec) = grid.Wcs.PixelToSky(gridX, gridY);
        var wcs = TanSipWcs.NorthUp(ra, dec, 50.5, 50.5, Scale);
        var rate = StarField.Constant(100 * 100, 1f);
        StarField.AddGaussian(rate, 100, 100, 49.5, 49.5, starRate, 1.5);
        var header = new FitsHeader();
        wcs.WriteTo(header);
        return new CalibratedImage { Source = "mem", Width = 100, Height = 100, Rate = rate, Variance = StarField.Constant(100 * 100, 0.01f), Wcs = wcs, Header = header };
    }

    [Fact]
    public void Resamples_small_inputs_onto_their_footprint_of_a_large_grid()
    {
        var grid = CoaddGrid.NorthUp(150, 2, 300, 300, Scale);
        var coadder = new ReferenceCoadder(grid, 3);

        Assert.True(coadder.Add(Input(grid, 80, 220, 500)));
        Assert.True(coadder.Add(Input(grid, 80.5, 220.5, 500)));
        Assert.False(coadder.Add(Input(grid, 900, 900, 500)));
        var coadd = coadder.Combine();

        Assert.Equal(2, coadd.Used.Count);
        Assert.True(float.IsNaN(coadd.Image[150 * 300 + 150]));
        Assert.Equal(0, coadd.Coverage[150 * 300 + 150]);
        Assert.Equal(2, coadd.Coverage[200 * 300 + 60], 2);
        var variance = coadd.Uncertainty.Select(u => u * u).ToArray();
        // Each input's background (1 DN/s) was subtracted before co-adding. The stars sit at 0-based grid (79, 219) and (79.5, 219.5).
        Assert.Equal(0, coadd.Image[200 * 300 + 60], 0.02);
        var flux = AperturePhotometry.Measure(coadd.Image, variance, 300, 300, 79.25, 219.25, 6);
        Assert.InRange(flux.Flux, 480, 510);
    }

    [Fact]
    public void Inputs_of_different_sky_levels_are_co_added_source_by_source()
    {
        // Three epochs of the same star over skies of 1, 5 and 12 DN/s: the per-pixel clipping compares the star's
        // pixels, not the skies, and the co-add's background is zero.
        var grid = CoaddGrid.NorthUp(150, 2, 300, 300, Scale);
        var coadder = new ReferenceCoadder(grid, 3);
        foreach (var (sky, dx) in new[] { (1f, 0.0), (5f, 0.3), (12f, 0.6) })
        {
            var input = Input(grid, 150 + dx, 150, 500);
            for (var i = 0; i < input.Rate.Length; i++) input.Rate[i] += sky - 1f;
            Assert.True(coadder.Add(input));
        }

        var coadd = coadder.Combine();

        Assert.Equal(0, coadd.RejectedValues);
        Assert.Equal(0, coadd.Image[130 * 300 + 130], 0.05);
        var variance = coadd.Uncertainty.Select(u => u * u).ToArray();
        Assert.InRange(AperturePhotometry.Measure(coadd.Image, variance, 300, 300, 149.3, 149, 6).Flux, 480, 510);
    }
}
