using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Simulation;
using Rapid.Pipeline.Tests.Fits.Support;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Simulation;

/// <summary>
/// The demo's reference tile must hold its rotated science images, corners included. The survey is the demo's (its
/// seed, two fields, both filters, eight epochs: the fields' rolls depend on nothing else) at a small image size; every
/// image's edge is read through the pipeline's own WCS reader from the written header and mapped onto the tile grid.
/// </summary>
public sealed class SurveyFootprintTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static SurveySpec DemoLike(int size) => new()
    {
        // Two fields, as the demo's: each field's roll depends on the seed and the field's index only (SurveySchedule).
        FieldCentres = [(9.5, -44.0), (9.8, -44.0)], Filters = ["F184", "H158"], Epochs = 8, Size = size, Seed = 1,
        TransientsPerField = 2, VariablesPerField = 1, StarsPerSquareArcmin = 20, GalaxiesPerSquareArcmin = 10,
    };

    /// <summary>How far outside the grid (pixels beyond its edge, 0 when inside) the farthest edge pixel of any image falls.</summary>
    private static double Overhang(SimulatedSurvey survey, int grid)
    {
        var worst = 0.0;
        foreach (var image in survey.Images)
        {
            var wcs = TanSipWcs.FromHeader(FitsFile.ReadImage(image.Path, "SCI").Header, image.Path);
            var (ra0, dec0) = survey.Spec.FieldCentres[image.FieldIndex];
            var tile = CoaddGrid.NorthUp(ra0, dec0, grid, grid, survey.Spec.PixelScaleArcsec).Wcs;
            foreach (var (x, y) in SurveyFootprint.Boundary(image.Width))
            {
                var (ra, dec) = wcs.PixelToSky(x, y);
                var (tx, ty) = tile.SkyToPixel(ra, dec);
                worst = Math.Max(worst, Math.Max(Math.Max(0.5 - tx, tx - (grid + 0.5)), Math.Max(0.5 - ty, ty - (grid + 0.5))));
            }
        }
        return worst;
    }

    [Fact]
    public void The_tile_grid_holds_every_image_corner_with_the_resampling_margin_to_spare()
    {
        var spec = DemoLike(256);
        var survey = SurveySimulator.Generate(spec, _dir.Path);

        var grid = SurveyFootprint.TileGridPixels(spec);

        Assert.Equal(0, Overhang(survey, grid - 2 * SurveyFootprint.DefaultMarginPixels));
        // The smallest such grid: two pixels less and some corner is out.
        Assert.True(Overhang(survey, grid - 2 * SurveyFootprint.DefaultMarginPixels - 2) > 0);
        // The old rule (1.25 x the image size) clipped the rolled images' corners.
        Assert.True(Overhang(survey, (int)Math.Ceiling(spec.Size * 1.25)) > 5, "the demo's fields are rolled enough to need more than 1.25 x");
    }
}
