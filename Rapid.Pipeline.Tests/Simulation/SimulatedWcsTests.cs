using System.Globalization;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Simulation;
using Rapid.Pipeline.Tests.Fits.Support;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Simulation;

public class SimulatedWcsTests
{
    [Theory]
    [InlineData(150.1, 2.2, 0.0, true)]
    [InlineData(359.99, -30.0, 123.4, true)]
    [InlineData(10.0, 89.5, 300.0, true)]
    [InlineData(200.0, -60.0, 45.0, false)]
    public void Pixel_to_sky_to_pixel_round_trips_within_a_thousandth_of_a_pixel(double ra, double dec, double pa, bool sip)
    {
        var wcs = SimulatedWcs.Create(ra, dec, pa, 0.11, 4088, 4088, sip);
        foreach (var (x, y) in new[] { (1.0, 1.0), (4088.0, 1.0), (2044.5, 2044.5), (1.0, 4088.0), (4088.0, 4088.0), (777.3, 3001.9) })
        {
            var (r, d) = wcs.PixelToSky(x, y);
            var (x2, y2) = wcs.SkyToPixel(r, d);
            Assert.InRange(Math.Abs(x2 - x), 0, 0.001);
            Assert.InRange(Math.Abs(y2 - y), 0, 0.001);
        }
    }

    [Fact]
    public void North_is_up_and_east_left_at_position_angle_zero()
    {
        var wcs = SimulatedWcs.Create(150, 0, 0, 0.11, 101, 101, sip: false);
        var (raUp, decUp) = wcs.PixelToSky(51, 61);
        var (raLeft, _) = wcs.PixelToSky(41, 51);
        Assert.True(decUp > 0);
        Assert.Equal(150, raUp, 9);
        Assert.True(raLeft > 150);
        Assert.Equal(10 * 0.11 / 3600, decUp, 9);
    }

    [Fact]
    public void Image_y_axis_points_at_the_position_angle()
    {
        var wcs = SimulatedWcs.Create(150, 0, 90, 0.11, 101, 101, sip: false);
        var (ra, dec) = wcs.PixelToSky(51, 61);   // +y at PA 90 points east
        Assert.True(ra > 150);
        Assert.Equal(0, dec, 7);
    }

    [Fact]
    public void Sip_distortion_moves_the_corners_by_a_few_pixels_and_not_the_centre()
    {
        var plain = SimulatedWcs.Create(150, 2, 0, 0.11, 4088, 4088, sip: false);
        var sip = SimulatedWcs.Create(150, 2, 0, 0.11, 4088, 4088, sip: true);
        Assert.Equal(4, sip.SipOrder);
        var centre = sip.PixelToSky(2044.5, 2044.5);
        var (cx, cy) = plain.SkyToPixel(centre.RaDeg, centre.DecDeg);
        Assert.Equal(2044.5, cx, 9);
        Assert.Equal(2044.5, cy, 9);
        var corner = sip.PixelToSky(1, 1);
        var (x, y) = plain.SkyToPixel(corner.RaDeg, corner.DecDeg);
        var shift = Math.Sqrt((x - 1) * (x - 1) + (y - 1) * (y - 1));
        Assert.InRange(shift, 1, 10);
    }

    [Fact]
    public void Distortion_is_stronger_on_outer_scas_and_mirrored_across_the_focal_plane()
    {
        double CornerShift(SimulatedWcs w)
        {
            var plain = SimulatedWcs.Create(150, 2, 0, 0.11, 4088, 4088, sip: false);
            var (ra, dec) = w.PixelToSky(1, 1);
            var (x, y) = plain.SkyToPixel(ra, dec);
            return Math.Sqrt((x - 1) * (x - 1) + (y - 1) * (y - 1));
        }
        var inner = SimulatedWcs.Create(150, 2, 0, 0.11, 4088, 4088, sip: true, sca: 8);     // column 3, middle row
        var outer = SimulatedWcs.Create(150, 2, 0, 0.11, 4088, 4088, sip: true, sca: 18);    // rightmost column, top
        Assert.True(CornerShift(outer) > 1.5 * CornerShift(inner));
        var left = SimulatedWcs.Create(150, 2, 0, 0.11, 4088, 4088, sip: true, sca: 2);
        var right = SimulatedWcs.Create(150, 2, 0, 0.11, 4088, 4088, sip: true, sca: 17);
        Assert.Equal(-right.SipA(2, 0), left.SipA(2, 0), 15);
        Assert.Equal(right.SipA(1, 1), left.SipA(1, 1), 15);
        Assert.Equal(right.SipB(2, 0), left.SipB(2, 0), 15);
        Assert.Equal(-right.SipB(1, 1), left.SipB(1, 1), 15);
    }

    [Fact]
    public void Header_keywords_name_tan_or_tan_sip()
    {
        var keys = SimulatedWcs.Create(1, 1, 0, 0.11, 64, 64, sip: true).HeaderKeywords().ToDictionary(k => k.Key, k => k.Value);
        Assert.Equal("RA---TAN-SIP", keys["CTYPE1"]);
        Assert.Equal(4L, keys["A_ORDER"]);
        Assert.True(keys.ContainsKey("B_0_4"));
        var plain = SimulatedWcs.Create(1, 1, 0, 0.11, 64, 64, sip: false).HeaderKeywords().ToDictionary(k => k.Key, k => k.Value);
        Assert.Equal("RA---TAN", plain["CTYPE1"]);
        Assert.False(plain.ContainsKey("A_ORDER"));
    }

    private static readonly (double X, double Y)[] FullScaPixels =
        [(1, 1), (4088, 1), (1, 4088), (4088, 4088), (2044.5, 2044.5), (100.25, 3900.75), (3000, 1500)];

    [Fact]
    public void The_pipeline_wcs_reading_the_full_sca_header_agrees_within_a_thousandth_of_a_pixel()
    {
        var truth = SimulatedWcs.Create(210.3, -44.7, 77.0, 0.11, 4088, 4088, sip: true, sca: 18);   // the strongest distortion
        var header = new FitsHeader();
        truth.WriteTo(header);
        var wcs = TanSipWcs.FromHeader(header, "full-SCA simulated header");
        foreach (var (x, y) in FullScaPixels)
        {
            var (ra, dec) = truth.PixelToSky(x, y);
            var (px, py) = wcs.SkyToPixel(ra, dec);
            Assert.InRange(Math.Abs(px - x), 0, 0.001);
            Assert.InRange(Math.Abs(py - y), 0, 0.001);
        }
    }

    [Fact]
    public void Astropy_reading_the_full_sca_header_agrees_within_a_hundredth_of_a_pixel()
    {
        using var dir = new TempDirectory();
        var truth = SimulatedWcs.Create(0.02, 63.1, 201.0, 0.11, 4088, 4088, sip: true, sca: 1);
        var header = new FitsHeader();
        truth.WriteTo(header);
        var path = dir.File("wcs.fits");
        FitsFile.WriteImageExtension(path, new FitsHeader(), new FitsImage(8, 8, null, header), "SCI");
        const string script = """
            import sys, warnings
            from astropy.io import fits
            from astropy.wcs import WCS
            warnings.simplefilter('ignore')
            w = WCS(fits.open(sys.argv[1])['SCI'].header)
            xy = [tuple(map(float, p.split(','))) for p in sys.argv[2:]]
            for x, y in xy:
                ra, dec = w.all_pix2world(x, y, 1)
                print(repr(float(ra)), repr(float(dec)))
            """;
        var lines = Astropy.Run(script, [path, .. FullScaPixels.Select(p => FormattableString.Invariant($"{p.X},{p.Y}"))])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(FullScaPixels.Length, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var parts = lines[i].Split(' ');
            var (x, y) = truth.SkyToPixel(double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
            Assert.InRange(Math.Abs(x - FullScaPixels[i].X), 0, 0.01);
            Assert.InRange(Math.Abs(y - FullScaPixels[i].Y), 0, 0.01);
        }
    }
}
