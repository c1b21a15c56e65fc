using Rapid.Pipeline.Simulation;

namespace Rapid.Pipeline.Tests.Simulation;

public class StampRendererTests
{
    private static readonly MoffatPsf Psf = MoffatPsf.For(RomanFilter.Named("F184"), 0.11);

    [Theory]
    [InlineData(31.0, 32.0)]
    [InlineData(30.27, 33.61)]
    [InlineData(32.5, 31.5)]
    public void Point_source_centroid_lands_on_its_position(double x, double y)
    {
        var image = new float[64 * 64];
        StampRenderer.AddPointSource(image, 64, 64, x, y, 1e5, Psf);
        var (cx, cy) = Centroid(image, 64, x, y, 12);
        Assert.InRange(cx - x, -0.05, 0.05);
        Assert.InRange(cy - y, -0.05, 0.05);
    }

    [Fact]
    public void Point_source_flux_is_conserved_within_one_percent_in_an_aperture()
    {
        var image = new float[96 * 96];
        StampRenderer.AddPointSource(image, 96, 96, 47.3, 48.8, 12345, Psf);
        Assert.Equal(12345, ApertureSum(image, 96, 47.3, 48.8, 40), 12345 * 0.01);
        Assert.Equal(12345, image.Sum(v => (double)v), 12345 * 0.001);
    }

    [Fact]
    public void Sersic_galaxy_flux_is_conserved_and_centred()
    {
        var image = new float[128 * 128];
        StampRenderer.AddSersicGalaxy(image, 128, 128, 63.4, 64.2, 5000, 4.0, 1.0, 0.5, 0.7, Psf);
        Assert.Equal(5000, image.Sum(v => (double)v), 5000 * 0.001);
        var (cx, cy) = Centroid(image, 128, 63.4, 64.2, 40);
        Assert.InRange(cx - 63.4, -0.05, 0.05);
        Assert.InRange(cy - 64.2, -0.05, 0.05);
    }

    [Fact]
    public void Light_falling_off_the_image_is_lost_not_wrapped()
    {
        var clipped = new float[32 * 32];
        StampRenderer.AddPointSource(clipped, 32, 32, -0.5, 16, 1000, Psf);
        var whole = new float[64 * 32];
        StampRenderer.AddPointSource(whole, 64, 32, 31.5, 16, 1000, Psf);
        for (var j = 0; j < 32; j++)
            for (var i = 0; i < 32; i++)
                Assert.Equal(whole[j * 64 + i + 32], clipped[j * 32 + i], 4);
        Assert.InRange(clipped.Sum(v => (double)v), 450, 550);
    }

    [Fact]
    public void Sersic_b_makes_re_the_half_light_radius()
    {
        // For n = 1 the exact b is 1.67835 (the root of the incomplete gamma condition).
        Assert.Equal(1.67835, StampRenderer.SersicB(1), 3);
        Assert.Equal(7.66925, StampRenderer.SersicB(4), 3);
    }

    internal static (double X, double Y) Centroid(float[] image, int width, double x0, double y0, int half)
    {
        double s = 0, sx = 0, sy = 0;
        var height = image.Length / width;
        for (var j = (int)Math.Round(y0) - half; j <= (int)Math.Round(y0) + half; j++)
            for (var i = (int)Math.Round(x0) - half; i <= (int)Math.Round(x0) + half; i++)
            {
                if (i < 0 || j < 0 || i >= width || j >= height) continue;
                var v = image[j * width + i];
                s += v; sx += v * i; sy += v * j;
            }
        return (sx / s, sy / s);
    }

    internal static double ApertureSum(float[] image, int width, double x0, double y0, double radius)
    {
        double s = 0;
        var height = image.Length / width;
        for (var j = 0; j < height; j++)
            for (var i = 0; i < width; i++)
                if ((i - x0) * (i - x0) + (j - y0) * (j - y0) <= radius * radius) s += image[j * width + i];
        return s;
    }
}
