using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Subtraction;
using Rapid.Pipeline.Tests.Support;

namespace Rapid.Pipeline.Tests.Imaging;

public class CrossConvolvedFluxTests
{
    private const int Size = 300;

    // The science ePSF is 25 % too broad (FWHM 2.5 for stars of 2.0), and the aperture on the cross-convolved images is
    // narrow (1 FWHM of P_n ⊗ P_r): the narrow ratio alone is then biased low by several per cent (the science stars'
    // convolved profile is narrower than the model says). The bright stars' aperture correction to 10 px must bring the
    // scale back to the truth within its error.
    [Fact]
    public void Corrects_the_narrow_ratio_to_total_flux_when_a_psf_model_is_too_broad()
    {
        const double trueScale = 2.0;
        var random = new Random(5);
        var (science, reference) = (new float[Size * Size], new float[Size * Size]);
        for (var j = 0; j < 6; j++)
            for (var i = 0; i < 6; i++)
            {
                var (x, y) = (25 + 50 * i + 0.37 * j, 25 + 50 * j + 0.21 * i);
                var flux = 400 * Math.Exp(2.5 * random.NextDouble());
                StarField.AddGaussian(science, Size, Size, x, y, trueScale * flux, 2.0 / 2.3548);
                StarField.AddGaussian(reference, Size, Size, x, y, flux, 2.2 / 2.3548);
            }
        StarField.AddNoise(science, 1.0, random);
        StarField.AddNoise(reference, 0.1, random);
        var (scienceVariance, referenceVariance) = (StarField.Constant(Size * Size, 1f), StarField.Constant(Size * Size, 0.01f));
        var flux2 = new CrossConvolvedFlux(PsfModel.Gaussian(2.5, 35), PsfModel.Gaussian(2.2, 35), null, null, apertureFwhm: 1, wideRadius: 10, maxApertureShare: 0.8);

        var (s, r) = StarPairs.Measure(science, scienceVariance, reference, referenceVariance, Size, Size, 2.0, 2.2, flux2);
        var match = FluxMatcher.Match(s, r, fallbackScale: 1);

        Assert.Equal(36, match.ConstantStars.Count);
        var narrow = Math.Exp(s.Zip(r, (a, b) => Math.Log(a.Flux / b.Flux)).Average()) / trueScale - 1;
        Assert.True(Math.Abs(narrow) > 0.02, $"the narrow ratio alone is {narrow:P2} off: the test's models must be wrong enough to matter");
        Assert.True(Math.Abs(match.Scale / trueScale - 1) <= Math.Min(3 * match.ScaleError, Math.Abs(narrow) / 3),
            $"scale {match.Scale / trueScale - 1:P2} ± {match.ScaleError:P2} off the truth (the narrow ratio alone {narrow:P2})");
        Assert.InRange(match.ScaleError, 0.0005, 0.01);
    }

    // The gnuastro bench set's PSFs (FWHM 2.95 and 2.5 px): 3 FWHMs of P_n ⊗ P_r are 11.6 px, beyond the 10 px aperture
    // that corrects the ratio; the setting fluxMatchMaxApertureShare caps the aperture at its share of 10 px, and the
    // job's options carry the setting's value.
    [Theory]
    [InlineData(0.8, 8.0)]
    [InlineData(0.5, 5.0)]
    [InlineData(2.0, 11.61)]
    public void The_aperture_is_at_most_the_configured_share_of_the_wide_one(double share, double radius)
    {
        var options = DifferenceImagingOptions.From(new Rapid.Core.Contracts.PipelineSettings { FluxMatchMaxApertureShare = share });
        var flux = new CrossConvolvedFlux(PsfModel.Gaussian(2.95, 35), PsfModel.Gaussian(2.5, 35), null, null,
            options.FluxMatchApertureFwhm, wideRadius: 10, options.FluxMatchMaxApertureShare);

        Assert.Equal(radius, flux.ApertureRadius, 0.02);
    }

    // Noise smoothed by a 3 x 3 box (as resampling correlates a reference's): each pixel's variance is 1/9 of the white
    // noise's, but a sum over a few pixels keeps nearly all of it. The quoted error must follow the measured scatter of
    // the flux at empty positions, not the per-pixel variance map (which alone gives ~1/3 of it).
    [Fact]
    public void Quotes_errors_that_include_the_noise_correlation_of_a_resampled_image()
    {
        var random = new Random(8);
        const int size = 400;
        var white = new float[size * size];
        StarField.AddNoise(white, 3.0, random);
        var smooth = new float[size * size];
        for (var y = 1; y < size - 1; y++)
            for (var x = 1; x < size - 1; x++)
            {
                double sum = 0;
                for (var dy = -1; dy <= 1; dy++)
                    for (var dx = -1; dx <= 1; dx++) sum += white[(y + dy) * size + x + dx];
                smooth[y * size + x] = (float)(sum / 9);
            }
        var variance = StarField.Constant(size * size, 1f); // 3^2 / 9 per pixel
        var rho = NoiseCorrelation.Autocorrelation(smooth, size, size, 1.0);
        var flux = new CrossConvolvedFlux(PsfModel.Gaussian(2.0, 35), PsfModel.Gaussian(2.2, 35), null, rho, apertureFwhm: 3, wideRadius: 10, maxApertureShare: 0.8);

        var values = new List<double>();
        double quoted = 0;
        for (var y = 30; y < size - 30; y += 32)
            for (var x = 30; x < size - 30; x += 32)
            {
                var m = flux.Reference(smooth, variance, size, size, x, y)!.Value;
                values.Add(m.Flux);
                quoted = m.Error;
            }
        var mean = values.Average();
        var scatter = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));

        Assert.InRange(flux.VarianceFactors.Reference, 5, 10);
        Assert.InRange(quoted / scatter, 0.75, 1.33);
    }
}
