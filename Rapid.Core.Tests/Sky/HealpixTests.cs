using Rapid.Core.Sky;

namespace Rapid.Core.Tests.Sky;

/// <summary>
/// healpy cannot be installed here (no PyPI), so reference values are derived by hand from the
/// definitions in Górski et al. 2005: base pixels 0-3 are centred on z = 2/3 (Dec 41.8103149°) at
/// RA 45 + 90k, 4-7 on the equator at RA 90k, 8-11 on z = -2/3; inside a face the NESTED index
/// interleaves x (even bits) and y (odd bits), with (nside-1, nside-1) the face's northern corner.
/// </summary>
public class HealpixTests
{
    private static readonly double Dec23 = Math.Asin(2.0 / 3.0) * 180.0 / Math.PI; // 41.8103149...

    [Fact]
    public void Base_pixels_of_nside_1_are_where_the_paper_puts_them()
    {
        Assert.Equal(41.8103149, Dec23, 1e-7);
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(k, Healpix.AngToPixNested(1, 45 + 90 * k, Dec23));
            Assert.Equal(4 + k, Healpix.AngToPixNested(1, 90 * k, 0));
            Assert.Equal(8 + k, Healpix.AngToPixNested(1, 45 + 90 * k, -Dec23));

            AssertAngle((45 + 90 * k, Dec23), Healpix.PixToAngNested(1, k));
            AssertAngle((90 * k, 0), Healpix.PixToAngNested(1, 4 + k));
            AssertAngle((45 + 90 * k, -Dec23), Healpix.PixToAngNested(1, 8 + k));
        }
    }

    [Fact]
    public void Nside_2_face_0_subpixels_follow_the_nested_layout()
    {
        // Face 0 at nside 2: (x,y)=(0,0) south corner ring 3 (z=1/3), (1,0) east and (0,1) west on ring 2 (z=2/3),
        // (1,1) north corner ring 1 (z=1-1/12).
        double dec13 = Math.Asin(1.0 / 3.0) * 180.0 / Math.PI;
        double decRing1 = Math.Asin(11.0 / 12.0) * 180.0 / Math.PI;
        Assert.Equal(0, Healpix.AngToPixNested(2, 45, dec13));
        Assert.Equal(1, Healpix.AngToPixNested(2, 67.5, Dec23));
        Assert.Equal(2, Healpix.AngToPixNested(2, 22.5, Dec23));
        Assert.Equal(3, Healpix.AngToPixNested(2, 45, decRing1));
        AssertAngle((67.5, Dec23), Healpix.PixToAngNested(2, 1));
        AssertAngle((45, decRing1), Healpix.PixToAngNested(2, 3));
    }

    [Theory]
    [InlineData(64, 10, 4095)]          // face 0, northern corner pixel n²-1
    [InlineData(64, 100, 2 * 4096 - 1)] // face 1
    [InlineData(512, 359, 4 * 262144 - 1)]
    public void North_pole_falls_in_the_northern_corner_pixel_of_a_polar_face(int nside, double ra, long expected)
    {
        Assert.Equal(expected, Healpix.AngToPixNested(nside, ra, 90));
    }

    [Theory]
    [InlineData(64, 10, 8 * 4096)]  // face 8, southern corner pixel (x=y=0)
    [InlineData(64, 280, 11 * 4096)]
    public void South_pole_falls_in_the_southern_corner_pixel_of_a_polar_face(int nside, double ra, long expected)
    {
        Assert.Equal(expected, Healpix.AngToPixNested(nside, ra, -90));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(64)]
    public void Every_pixel_centre_maps_back_to_its_pixel(int nside)
    {
        long npix = Healpix.PixelCount(nside);
        for (long p = 0; p < npix; p++)
        {
            var (ra, dec) = Healpix.PixToAngNested(nside, p);
            Assert.Equal(p, Healpix.AngToPixNested(nside, ra, dec));
        }
    }

    [Fact]
    public void Sampled_nside_512_pixel_centres_map_back()
    {
        long npix = Healpix.PixelCount(512);
        Assert.Equal(3_145_728, npix);
        for (long p = 0; p < npix; p += 997)
        {
            var (ra, dec) = Healpix.PixToAngNested(512, p);
            Assert.Equal(p, Healpix.AngToPixNested(512, ra, dec));
        }
        var (lastRa, lastDec) = Healpix.PixToAngNested(512, npix - 1);
        Assert.Equal(npix - 1, Healpix.AngToPixNested(512, lastRa, lastDec));
    }

    [Fact]
    public void Nested_pixels_are_hierarchical_parent_is_child_over_4()
    {
        var rng = new Random(20260122);
        for (int i = 0; i < 5000; i++)
        {
            var (ra, dec) = RandomPoint(rng);
            long hp9 = Healpix.AngToPixNested(512, ra, dec);
            for (int nside = 256; nside >= 1; nside /= 2)
            {
                long parent = Healpix.AngToPixNested(nside, ra, dec);
                Assert.Equal(parent, hp9 / ((512 / nside) * (512 / nside)));
            }
        }
    }

    [Fact]
    public void A_point_is_close_to_the_centre_of_its_pixel()
    {
        var rng = new Random(7);
        const int nside = 64;
        double pixelSizeDeg = Math.Sqrt(41252.96 / Healpix.PixelCount(nside));
        for (int i = 0; i < 20000; i++)
        {
            var (ra, dec) = RandomPoint(rng);
            var (cra, cdec) = Healpix.PixToAngNested(nside, Healpix.AngToPixNested(nside, ra, dec));
            Assert.True(SphericalGeometry.AngularSeparationDeg(ra, dec, cra, cdec) < 1.5 * pixelSizeDeg,
                $"({ra}, {dec}) is far from its pixel centre ({cra}, {cdec})");
        }
    }

    [Fact]
    public void Pixels_have_equal_area()
    {
        // 120,000 uniform points over 12 base pixels: 10,000 each, binomial sd ~ 96.
        var rng = new Random(11);
        var counts = new int[12];
        for (int i = 0; i < 120_000; i++)
        {
            var (ra, dec) = RandomPoint(rng);
            counts[Healpix.AngToPixNested(1, ra, dec)]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 9500, 10500));
    }

    [Fact]
    public void RA_wraps_and_bad_input_is_rejected_with_the_value()
    {
        Assert.Equal(Healpix.AngToPixNested(64, 10, 20), Healpix.AngToPixNested(64, 370, 20));
        Assert.Equal(Healpix.AngToPixNested(64, 0, 5), Healpix.AngToPixNested(64, 360, 5));
        Assert.Contains("90.5", Assert.Throws<ArgumentOutOfRangeException>(() => Healpix.AngToPixNested(64, 0, 90.5)).Message);
        Assert.Contains("nside 3", Assert.Throws<ArgumentOutOfRangeException>(() => Healpix.AngToPixNested(3, 0, 0)).Message);
        Assert.Contains("49152", Assert.Throws<ArgumentOutOfRangeException>(() => Healpix.PixToAngNested(64, 49152)).Message);
    }

    private static (double Ra, double Dec) RandomPoint(Random rng) =>
        (rng.NextDouble() * 360.0, Math.Asin(2 * rng.NextDouble() - 1) * 180.0 / Math.PI);

    private static void AssertAngle((double Ra, double Dec) expected, (double RaDeg, double DecDeg) actual)
    {
        Assert.Equal(expected.Ra, actual.RaDeg, 1e-9);
        Assert.Equal(expected.Dec, actual.DecDeg, 1e-9);
    }
}
