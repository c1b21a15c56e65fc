using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Tests.Support;

namespace Rapid.Pipeline.Tests.Imaging;

public class StarMeasurementTests
{
    private const int Size = 128;

    [Fact]
    public void Measures_bright_isolated_stars_and_their_fwhm()
    {
        var random = new Random(5);
        var image = new float[Size * Size];
        (double X, double Y)[] positions = [(20.3, 20.1), (60.7, 25.4), (100.2, 30.9), (30.5, 90.5), (90.1, 95.6)];
        foreach (var (x, y) in positions) StarField.AddGaussian(image, Size, Size, x, y, 20000, 2.0);
        StarField.AddGaussian(image, Size, Size, 64, 64, 20000, 2.0);
        StarField.AddGaussian(image, Size, Size, 70, 64, 20000, 2.0); // a blend, rejected
        StarField.AddNoise(image, 2, random);
        var variance = StarField.Constant(Size * Size, 4f);

        var stars = StarMeasurement.BrightStars(image, variance, Size, Size);

        Assert.Equal(positions.Length, stars.Count);
        foreach (var s in stars)
            Assert.Contains(positions, p => Math.Abs(p.X - s.X) < 0.2 && Math.Abs(p.Y - s.Y) < 0.2);
        Assert.InRange(StarMeasurement.MedianFwhm(stars), 2.3548 * 2 * 0.9, 2.3548 * 2 * 1.1);
    }
}
