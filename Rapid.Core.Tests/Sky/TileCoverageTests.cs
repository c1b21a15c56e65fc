using Rapid.Core.Sky;

namespace Rapid.Core.Tests.Sky;

public class TileCoverageTests
{
    private const double Scale = 0.11;

    /// <summary>The four corners of a size² image at 0.11"/px centred (dx, dy) px from (ra0, dec0), rolled by pa degrees.</summary>
    private static IEnumerable<(double, double)> Corners(double ra0, double dec0, int size, double pa, double dx = 0, double dy = 0)
    {
        var h = size / 2.0;
        var (c, s) = (Math.Cos(pa * Math.PI / 180), Math.Sin(pa * Math.PI / 180));
        foreach (var (x, y) in new[] { (-h, -h), (h, -h), (h, h), (-h, h) })
        {
            var (px, py) = (dx + c * x - s * y, dy + s * x + c * y);
            yield return (ra0 + px * Scale / 3600 / Math.Cos(dec0 * Math.PI / 180), dec0 + py * Scale / 3600);
        }
    }

    [Fact]
    public void A_rolled_image_needs_its_diagonal()
    {
        // The demo's 1024² images rolled by 45° against the north-up tile span 1448 px; its 1.25 x 1024 tile clipped them.
        var side = TileCoverage.SideCovering(150, 2, Scale, Corners(150, 2, 1024, 45), minimumSide: 1280);
        Assert.InRange(side, 1024 * Math.Sqrt(2) + 16, 1024 * Math.Sqrt(2) + 20);
    }

    [Fact]
    public void Dithered_images_widen_it_and_a_covered_set_keeps_the_minimum()
    {
        var corners = Corners(150, 2, 1024, 0, 40, -40).Concat(Corners(150, 2, 1024, 0.3, -40, 40)).ToList();
        Assert.InRange(TileCoverage.SideCovering(150, 2, Scale, corners, minimumSide: 0), 1024 + 80 + 16, 1024 + 80 + 26); // the 0.3° roll adds 3 px
        Assert.Equal(7000, TileCoverage.SideCovering(150, 2, Scale, corners, minimumSide: 7000));
        Assert.Equal(7000, TileCoverage.SideCovering(150, 2, Scale, [], minimumSide: 7000));
    }

    [Fact]
    public void A_corner_off_the_tangent_plane_is_refused()
    {
        Assert.Throws<ArgumentException>(() => TileCoverage.SideCovering(0, 0, Scale, [(180.0, 0.0)], 100));
    }
}
