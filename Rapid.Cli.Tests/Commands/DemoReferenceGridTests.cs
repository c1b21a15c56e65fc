using Rapid.Cli.Commands;
using Rapid.Cli.Ingest;
using Rapid.Pipeline.Simulation;
using Rapid.Pipeline.Wcs;

namespace Rapid.Cli.Tests.Commands;

/// <summary>The demo's tile grid holds every image it simulates, so no science image loses its corners to the reference.</summary>
public class DemoReferenceGridTests
{
    [Theory]
    [InlineData(1, 1024)]
    [InlineData(3, 512)]
    public void The_demo_grid_holds_every_planned_image_with_the_resampling_kernels_reach(int seed, int size)
    {
        // The demo's own survey (as `rapid demo` reads its defaults: two fields, two filters, eight epochs).
        var spec = SurveySpec.Demo(SimulatedSurveyIngest.TileCentres(2), seed) with { Size = size };
        var side = DemoCommand.ReferenceGridFor(spec);

        var worst = double.PositiveInfinity;
        foreach (var plan in SurveySchedule.Plan(spec))
        {
            var (ra0, dec0) = spec.FieldCentres[plan.FieldIndex];
            var tile = TanSipWcs.NorthUp(ra0, dec0, (side + 1) / 2.0, (side + 1) / 2.0, spec.PixelScaleArcsec);
            var image = SimulatedWcs.Create(plan.CentreRaDeg, plan.CentreDecDeg, plan.PaDeg, spec.PixelScaleArcsec, size, size, spec.SipDistortion, plan.Sca);
            foreach (var (x, y) in new[] { (0.5, 0.5), (size + 0.5, 0.5), (0.5, size + 0.5), (size + 0.5, size + 0.5) })
            {
                var (ra, dec) = image.PixelToSky(x, y);
                var (tx, ty) = tile.SkyToPixel(ra, dec); // 1-based: the grid's pixels span 0.5 .. side + 0.5
                worst = Math.Min(worst, Math.Min(Math.Min(tx - 0.5, side + 0.5 - tx), Math.Min(ty - 0.5, side + 0.5 - ty)));
            }
        }
        // Lanczos-3 reaches 3 px; TileCoverage keeps 8 px to spare.
        Assert.InRange(worst, 3, 12);
        // The former 1.25 x size grid would have clipped these fields' rolled images.
        Assert.True(side > 1.25 * size, $"grid {side} px for {size} px images");
    }
}
