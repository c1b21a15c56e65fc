using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;
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

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.5, 0.5)]
    public void Keeps_undersampled_stars_at_any_phase_when_the_cut_comes_from_their_effective_psf(double dx, double dy)
    {
        // A 1.2 px Gaussian (photutils' undersampled case) is 1.4 px wide once integrated over the pixels, and the stack of
        // Lanczos-recentred stars measured 1.6 px on photutils' set. That width fed to the Gaussian formula integrates
        // it again and cuts above what the star keeps at the worst phase: 42 real sources were masked as cosmic rays.
        var psf = EffectivePsf.Gaussian(1.2, 8, 4, PsfMethod.Given);
        var image = new float[Size * Size];
        var stamp = new double[15 * 15];
        psf.RenderBox(30 + dx, 30 + dy, 23, 23, 15, 15, stamp);
        for (var j = 0; j < 15; j++)
            for (var i = 0; i < 15; i++) image[(23 + j) * Size + 23 + i] += (float)(20000 * stamp[j * 15 + i]);
        StarField.AddNoise(image, 1, new Random(4));
        var detection = Detect(image);

        Assert.False(SharpnessFilter.ForEffectivePsf(psf).IsSharperThanPsf(detection, image, Size, Size));
        if (dx == 0.5 && dy == 0.5) Assert.True(new SharpnessFilter(1.6).IsSharperThanPsf(detection, image, Size, Size),
            "the pixel-convolved FWHM in the Gaussian formula no longer masks the star: the case shows nothing");
    }

    [Fact]
    public void A_hot_pixel_is_sharper_than_an_undersampled_effective_psf()
    {
        var hot = new float[Size * Size];
        StarField.AddNoise(hot, 1, new Random(5));
        hot[40 * Size + 40] += 500;

        Assert.True(SharpnessFilter.ForEffectivePsf(EffectivePsf.Gaussian(1.2, 8, 4, PsfMethod.Given)).IsSharperThanPsf(Detect(hot), hot, Size, Size));
    }

    [Fact]
    public void Worst_case_neighbour_ratio_grows_with_the_psf()
    {
        Assert.Equal(0.214, SharpnessFilter.WorstCaseNeighbourRatio(0.75), 2);
        Assert.True(SharpnessFilter.WorstCaseNeighbourRatio(1.5) > SharpnessFilter.WorstCaseNeighbourRatio(0.75));
    }
}
