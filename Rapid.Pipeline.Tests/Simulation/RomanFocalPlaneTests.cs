using Rapid.Pipeline.Simulation;

namespace Rapid.Pipeline.Tests.Simulation;

public class RomanFocalPlaneTests
{
    [Fact]
    public void Eighteen_scas_tile_about_eight_tenths_by_four_tenths_of_a_degree_without_overlap()
    {
        var centres = Enumerable.Range(1, 18).Select(RomanFocalPlane.ScaCentreArcmin).ToList();
        var scaSide = 4088 * 0.11 / 60;                      // 7.49 arcmin
        var width = centres.Max(c => c.X) - centres.Min(c => c.X) + scaSide;
        var height = centres.Max(c => c.Y) - centres.Min(c => c.Y) + scaSide;
        Assert.InRange(width / 60, 0.75, 0.9);
        Assert.InRange(height / 60, 0.4, 0.55);
        for (var a = 0; a < 18; a++)
            for (var b = a + 1; b < 18; b++)
                Assert.True(Math.Abs(centres[a].X - centres[b].X) >= scaSide || Math.Abs(centres[a].Y - centres[b].Y) >= scaSide,
                    $"SCAs {a + 1} and {b + 1} overlap");
        Assert.Throws<ArgumentException>(() => RomanFocalPlane.ScaCentreArcmin(0));
    }

    [Fact]
    public void A_single_sca_sits_on_the_field_centre()
    {
        Assert.Equal((0.0, 0.0), RomanFocalPlane.CentredOffsetsArcmin([7])[7]);
    }

    [Fact]
    public void Offsets_rotate_with_the_position_angle()
    {
        var (xi, eta) = RomanFocalPlane.ToStandard(0, 10, 0);     // +y at PA 0: north
        Assert.Equal(0, xi, 12);
        Assert.True(eta > 0);
        (xi, eta) = RomanFocalPlane.ToStandard(10, 0, 0);          // +x at PA 0: west
        Assert.True(xi < 0);
        (xi, eta) = RomanFocalPlane.ToStandard(0, 10, 90);         // +y at PA 90: east
        Assert.True(xi > 0);
        Assert.Equal(0, eta, 12);
    }
}
