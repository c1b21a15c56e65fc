using Rapid.Core.Sky;

namespace Rapid.Core.Tests.Sky;

public class SphericalGeometryTests
{
    [Theory]
    [InlineData(0, 0, 90, 0, 90)]
    [InlineData(0, 90, 123, -90, 180)]
    [InlineData(10, 0, 10, 45, 45)]
    [InlineData(0, 0, 180, 0, 180)]
    [InlineData(359.9999, 0, 0.0001, 0, 0.0002)]
    public void Separation_matches_known_angles(double ra1, double dec1, double ra2, double dec2, double expected)
    {
        Assert.Equal(expected, SphericalGeometry.AngularSeparationDeg(ra1, dec1, ra2, dec2), 1e-10);
    }

    [Fact]
    public void Separation_is_accurate_at_sub_milliarcsecond_scale()
    {
        // Tolerance 1e-14: the inputs 20 + 1e-9 and 10 + 1e-9 themselves carry ~4e-15 of rounding.
        Assert.Equal(1e-9, SphericalGeometry.AngularSeparationDeg(10, 20, 10, 20 + 1e-9), 1e-14);
        // 1e-9 deg of RA at Dec 60 is 0.5e-9 deg on the sky.
        Assert.Equal(0.5e-9, SphericalGeometry.AngularSeparationDeg(10, 60, 10 + 1e-9, 60), 1e-14);
    }

    [Fact]
    public void Separation_across_the_pole_is_the_sum_of_colatitudes()
    {
        Assert.Equal(0.0002, SphericalGeometry.AngularSeparationDeg(0, 89.9999, 180, 89.9999), 1e-10);
    }

    [Theory]
    [InlineData(-1e-20, 0)]
    [InlineData(720, 0)]
    [InlineData(360, 0)]
    [InlineData(-90, 270)]
    [InlineData(359.5, 359.5)]
    [InlineData(-359.5, 0.5)]
    public void NormalizeRa_wraps_into_0_to_360(double ra, double expected)
    {
        double r = SphericalGeometry.NormalizeRaDeg(ra);
        Assert.Equal(expected, r, 1e-12);
        Assert.InRange(r, 0.0, 359.999999999);
    }
}
