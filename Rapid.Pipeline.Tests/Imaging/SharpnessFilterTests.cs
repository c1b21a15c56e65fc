using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Tests.Support;

namespace Rapid.Pipeline.Tests.Imaging;

public class SharpnessFilterTests
{
    private const int Size = 64;
    private const double Sigma = 0.75; // an undersampled PSF, FWHM 1.77 px (Roman H158 on 0.11" pixels)

    private static Detection Detect(float[] image) =>
        Assert.Single(new PeakDetector(5, minPixels: 1).Detect(image, image, Size, Size, includeNegative: false));

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.49, 0.49)]
    public void Keeps_point_sources_however_they_are_centred(double dx, double dy)
    {
        var image = new float[Size * Size];
        StarField.AddGaussian(image, Size, Size, 30 + dx, 30 + dy, 5000, Sigma);
        StarField.AddNoise(image, 1, new Random(1));

        Assert.False(new SharpnessFilter(2.3548 * Sigma).IsSharperThanPsf(Detect(image), image, Size, Size));
    }

    [Fact]
    public void Rejects_a_cosmic_ray_track_and_a_hot_pixel()
    {
        var track = new float[Size * Size];
        StarField.AddNoise(track, 1, new Random(2));
        for (var x = 20; x < 26; x++) track[30 * Size + x] += 800;
        var hot = new float[Size * Size];
        StarField.AddNoise(hot, 1, new Random(3));
        hot[40 * Size + 40] += 500;
        var filter = new SharpnessFilter(2.3548 * Sigma);

        Assert.True(filter.IsSharperThanPsf(new PeakDetector(5, minPixels: 1, peakRadius: 8).Detect(track, track, Size, Size, false).Single(), track, Size, Size));
        Assert.True(filter.IsSharperThanPsf(Detect(hot), hot, Size, Size));
    }

    [Fact]
    public void Worst_case_neighbour_ratio_grows_with_the_psf()
    {
        Assert.Equal(0.214, SharpnessFilter.WorstCaseNeighbourRatio(0.75), 2);
        Assert.True(SharpnessFilter.WorstCaseNeighbourRatio(1.5) > SharpnessFilter.WorstCaseNeighbourRatio(0.75));
    }
}
