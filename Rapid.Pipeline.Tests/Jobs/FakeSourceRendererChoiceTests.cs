using Rapid.Core.Contracts;
using Rapid.Pipeline.Jobs;
using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Subtraction;

namespace Rapid.Pipeline.Tests.Jobs;

public class FakeSourceRendererChoiceTests
{
    private static readonly Support.DifferencePairSpec Spec = new() { Seed = 31, Size = 256, Stars = 60, StarRates = (2, 30000), ScienceFwhm = 1.6, ReferenceFwhm = 1.8 };

    private static EffectivePsf Moffat(double fwhm) => Support.MoffatEffectivePsf.Of(fwhm);

    [Fact]
    public void Fakes_are_drawn_with_the_science_epsf_when_the_fluxes_were_normalised_by_it()
    {
        var pair = new Support.DifferencePair(Spec);
        var epsf = Moffat(Spec.ScienceFwhm);
        var log = new SilentLog();

        var result = DifferenceImaging.Run(pair.Input with { ScienceEffectivePsf = epsf }, new DifferenceImagingOptions(), log);
        var renderer = FakeSourceInjectionStep.RendererFor(result, epsf);

        Assert.Same(epsf, result.Measurement.Normalisation.Psf);
        Assert.DoesNotContain(log.Warnings, w => w.Kind == JobWarningKind.Psf);
        Assert.Equal(epsf.FwhmPixels, renderer.FwhmPixels, 6);
    }

    [Fact]
    public void Fakes_are_drawn_with_the_science_psf_model_when_the_stars_disagree_with_the_epsf()
    {
        // An ePSF twice as wide as the stars: its normalisation is far from theirs, the stars' is used, and so must the PSF
        // (here a PSF file's, P_n given beside the ePSF).
        var pair = new Support.DifferencePair(Spec);
        var wrong = Moffat(2 * Spec.ScienceFwhm);
        var given = Moffat(Spec.ScienceFwhm).PhaseAveragedModelAt(0, 0, 35);
        var log = new SilentLog();

        var result = DifferenceImaging.Run(pair.Input with { ScienceEffectivePsf = wrong, SciencePsf = given }, new DifferenceImagingOptions(), log);
        var renderer = FakeSourceInjectionStep.RendererFor(result, wrong);

        Assert.Null(result.Measurement.Normalisation.Psf);
        Assert.Contains(log.Warnings, w => w.Kind == JobWarningKind.Psf);
        Assert.Equal(EffectivePsf.FromModel(result.SciencePsf).FwhmPixels, renderer.FwhmPixels, 6);
        Assert.InRange(renderer.FwhmPixels, 0.8 * Spec.ScienceFwhm, 1.4 * Spec.ScienceFwhm);
    }
}
