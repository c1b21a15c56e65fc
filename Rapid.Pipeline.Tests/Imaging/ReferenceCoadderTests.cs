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
        var background = coadd.Image.Select(v => v - 1f).ToArray();
        // The stars sit at 0-based grid (79, 219) and (79.5, 219.5).
        var flux = AperturePhotometry.Measure(background, variance, 300, 300, 79.25, 219.25, 6);
        Assert.InRange(flux.Flux, 480, 510);
    }
}
