using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Tests.Psf.Support;

namespace Rapid.Pipeline.Tests.Psf;

public class PsfEstimatorTests
{
    private const int Size = 256;

    [Theory]
    [InlineData(3.2, 2.5)]
    [InlineData(2.6, null)]
    public void RecoversTheFwhmAndStampOfAKnownPsf(double fwhm, double? beta)
    {
        var profile = new Profile(fwhm, beta);
        var random = new Random(11);
        var image = StarField.Render(Size, Size, profile, StarField.Grid(Size, Size, 32, 20, 3000, 30000, random), 2, random);

        var psf = new PsfEstimator().Estimate(image, Size, Size, noiseSigma: 2, saturationLevel: double.PositiveInfinity);

        Assert.Equal(PsfMethod.Empirical, psf.Method);
        Assert.False(psf.IsFallback);
        Assert.True(psf.StarsUsed >= 30, $"{psf.StarsUsed} stars used");
        Assert.InRange(psf.FwhmPixels / fwhm, 0.95, 1.05);
        var truth = profile.Model(psf.Size);
        double worst = 0;
        for (var i = 0; i < psf.Size * psf.Size; i++) worst = Math.Max(worst, Math.Abs(psf.Stamp[i] - truth.Stamp[i]));
        var peak = truth[truth.Centre, truth.Centre];
        Assert.True(worst < 0.03 * peak, $"largest stamp residual {worst:G3} against a peak of {peak:G3}");
    }

    [Fact]
    public void IgnoresHotPixelsBrighterThanTheStars()
    {
        var profile = new Profile(1.8, 2.5);
        var random = new Random(8);
        var image = StarField.Render(Size, Size, profile, StarField.Grid(Size, Size, 32, 20, 3000, 30000, random), 2, random);
        var clean = new PsfEstimator().Estimate((float[])image.Clone(), Size, Size, noiseSigma: 2, saturationLevel: double.PositiveInfinity);
        // Single hot pixels half-way between the grid stars, brighter than any star's peak.
        for (var y = 36; y < Size - 36; y += 32)
            for (var x = 36; x < Size - 36; x += 32) image[y * Size + x] += 50_000;

        var psf = new PsfEstimator().Estimate(image, Size, Size, noiseSigma: 2, saturationLevel: double.PositiveInfinity);

        Assert.Equal(PsfMethod.Empirical, psf.Method);
        // The hot pixels change nothing; the Lanczos-3 centring phase-averages an undersampled 1.8 px star to ~2.0 px.
        Assert.InRange(psf.FwhmPixels / clean.FwhmPixels, 0.97, 1.03);
        Assert.InRange(psf.FwhmPixels / 1.8, 0.9, 1.15);
    }

    [Fact]
    public void SkipsSaturatedStars()
    {
        var profile = new Profile(3, 2.5);
        var random = new Random(5);
        var stars = StarField.Grid(Size, Size, 32, 20, 3000, 30000, random);
        var image = StarField.Render(Size, Size, profile, stars, 2, random);
        // Clip the brightest half of the stars at a saturation level: what remains must still give the right PSF.
        var saturation = 400f;
        for (var i = 0; i < image.Length; i++) image[i] = Math.Min(image[i], saturation);

        var psf = new PsfEstimator().Estimate(image, Size, Size, noiseSigma: 2, saturationLevel: saturation);

        Assert.Equal(PsfMethod.Empirical, psf.Method);
        Assert.InRange(psf.FwhmPixels / 3, 0.95, 1.05);
    }

    [Fact]
    public void FallsBackToAGaussianWithTheMeasuredFwhmWhenTooFewStars()
    {
        var profile = new Profile(3.0);
        var random = new Random(3);
        var image = StarField.Render(Size, Size, profile, [(60.3, 70.6, 20000), (180.8, 150.2, 15000)], 2, random);

        var psf = new PsfEstimator().Estimate(image, Size, Size, noiseSigma: 2, saturationLevel: double.PositiveInfinity);

        Assert.Equal(PsfMethod.GaussianFromStars, psf.Method);
        Assert.True(psf.IsFallback);
        Assert.Equal(2, psf.StarsUsed);
        Assert.InRange(psf.FwhmPixels / 3.0, 0.95, 1.05);
    }

    [Fact]
    public void FallsBackToTheDefaultFwhmWithoutStars()
    {
        var random = new Random(4);
        var image = StarField.Render(64, 64, new Profile(3), [], 2, random);

        var psf = new PsfEstimator(new PsfEstimatorOptions { DefaultFwhm = 2.2 }).Estimate(image, 64, 64, noiseSigma: 2, saturationLevel: double.PositiveInfinity);

        Assert.Equal(PsfMethod.GaussianFromDefault, psf.Method);
        Assert.True(psf.IsFallback);
        Assert.Equal(2.2, psf.FwhmPixels);
    }

    [Fact]
    public void IgnoresStarsTouchingNaNPixels()
    {
        var profile = new Profile(3.0);
        var random = new Random(8);
        var image = StarField.Render(Size, Size, profile, [(60.3, 70.6, 20000), (180.8, 150.2, 15000)], 2, random);
        image[72 * Size + 62] = float.NaN;

        var psf = new PsfEstimator().Estimate(image, Size, Size, noiseSigma: 2, saturationLevel: double.PositiveInfinity);

        Assert.Equal(1, psf.StarsUsed);
    }

    [Fact]
    public void RejectsAnEvenStampSize() =>
        Assert.Throws<ArgumentException>(() => new PsfEstimator(new PsfEstimatorOptions { StampSize = 24 }));
}
