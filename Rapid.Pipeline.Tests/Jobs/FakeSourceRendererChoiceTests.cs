using Rapid.Core.Contracts;
using Rapid.Pipeline.Jobs;
using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Simulation;
using Rapid.Pipeline.Subtraction;

namespace Rapid.Pipeline.Tests.Jobs;

public class FakeSourceRendererChoiceTests
{
    private static readonly Support.DifferencePairSpec Spec = new() { Seed = 31, Size = 256, Stars = 60, StarRates = (2, 30000), ScienceFwhm = 1.6, ReferenceFwhm = 1.8 };

    /// <summary>A Moffat of the given FWHM as a 4x supersampled ePSF.</summary>
    private static EffectivePsf Moffat(double fwhm)
    {
        const int s = 4, h = 17 * s;
        var samples = new double[(2 * h + 1) * (2 * h + 1)];
        new MoffatPsf(fwhm * s).FillStamp(samples, h, 0, 0);
        return new EffectivePsf([samples], 2 * h + 1, s, 0, (0, 0, 1), PsfMethod.Given, 0);
    }

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
