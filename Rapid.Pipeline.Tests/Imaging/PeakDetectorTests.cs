using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Tests.Support;

namespace Rapid.Pipeline.Tests.Imaging;

public class PeakDetectorTests
{
    private const int Size = 128;

    [Fact]
    public void Finds_positive_and_negative_sources_at_their_centroids()
    {
        var random = new Random(11);
        var image = new float[Size * Size];
        StarField.AddGaussian(image, Size, Size, 30.3, 40.6, 2000, 1.5);
        StarField.AddGaussian(image, Size, Size, 90.0, 70.2, -2000, 1.5);
        StarField.AddNoise(image, 1, random);

        var detections = new PeakDetector(5).Detect(image, image, Size, Size);

        Assert.Equal(2, detections.Count);
        var positive = Assert.Single(detections, d => d.Sign > 0);
        Assert.InRange(positive.X, 30.0, 30.6);
        Assert.InRange(positive.Y, 40.3, 40.9);
        var negative = Assert.Single(detections, d => d.Sign < 0);
        Assert.InRange(negative.X, 89.7, 90.3);
        Assert.True(negative.PeakSignificance < -5);
    }

    [Fact]
    public void Ignores_single_hot_pixels_and_noise()
    {
        var random = new Random(12);
        var image = new float[Size * Size];
        StarField.AddNoise(image, 1, random);
        image[50 * Size + 50] = 100;

        Assert.Empty(new PeakDetector(5, minPixels: 3).Detect(image, image, Size, Size));
    }

    [Fact]
    public void Separates_two_close_stars_in_one_region()
    {
        var image = new float[Size * Size];
        StarField.AddGaussian(image, Size, Size, 60, 60, 5000, 1.5);
        StarField.AddGaussian(image, Size, Size, 67, 60, 5000, 1.5);

        var detections = new PeakDetector(5, peakRadius: 3).Detect(image, image, Size, Size, includeNegative: false);

        Assert.Equal(2, detections.Count);
    }
}
