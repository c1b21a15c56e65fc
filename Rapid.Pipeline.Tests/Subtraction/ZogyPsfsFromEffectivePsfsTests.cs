using Rapid.Core.Contracts;
using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Subtraction;

namespace Rapid.Pipeline.Tests.Subtraction;

/// <summary>
/// ZOGY's P_n and P_r are effective PSFs (Anderson &amp; King 2000): the science image's (built before injection and
/// handed in) and one built on the reference as resampled onto the science grid, each as its phase-averaged native stamp.
/// </summary>
public class ZogyPsfsFromEffectivePsfsTests
{
    private static readonly Support.DifferencePairSpec Spec = new() { Seed = 31, Size = 256, Stars = 60, StarRates = (2, 30000), ScienceFwhm = 1.6, ReferenceFwhm = 1.8 };
    private static readonly int StampSize = new DifferenceImagingOptions().Psf.StampSize;

    private static EffectivePsf Moffat(double fwhm) => Support.MoffatEffectivePsf.Of(fwhm);

    private static (double X, double Y) Centre => ((Spec.Size - 1) / 2.0, (Spec.Size - 1) / 2.0);

    [Fact]
    public void P_n_is_the_phase_averaged_stamp_of_the_science_epsf_handed_in()
    {
        // 10 % wider than the stars: a P_n estimated from the image's stars instead would not match it.
        var epsf = Moffat(1.1 * Spec.ScienceFwhm);
        var pair = new Support.DifferencePair(Spec);

        var result = DifferenceImaging.Run(pair.Input with { ScienceEffectivePsf = epsf }, new DifferenceImagingOptions(), new SilentLog());

        Assert.Same(epsf, result.ScienceEffectivePsf);
        var expected = epsf.PhaseAveragedModelAt(Centre.X, Centre.Y, StampSize);
        Assert.Equal(expected.Size, result.SciencePsf.Size);
        for (var i = 0; i < expected.Stamp.Length; i++) Assert.Equal(expected.Stamp[i], result.SciencePsf.Stamp[i], 12);
    }

    [Fact]
    public void P_r_is_the_stamp_of_an_epsf_built_on_the_resampled_reference()
    {
        var pair = new Support.DifferencePair(Spec);
        var log = new SilentLog();

        var result = DifferenceImaging.Run(pair.Input with { ScienceEffectivePsf = Moffat(Spec.ScienceFwhm) }, new DifferenceImagingOptions(), log);

        var reference = Assert.IsType<EffectivePsf>(result.ReferenceEffectivePsf);
        Assert.Equal(PsfMethod.Empirical, reference.Method);
        Assert.True(reference.Oversampling > 1, $"oversampling {reference.Oversampling}");
        // The Moffat of FWHM 1.8 px integrated over the pixel and smoothed by Lanczos-3 resampling: wider, not narrower.
        Assert.InRange(reference.FwhmPixels, Spec.ReferenceFwhm, 1.35 * Spec.ReferenceFwhm);
        var expected = reference.PhaseAveragedModelAt(Centre.X, Centre.Y, StampSize);
        for (var i = 0; i < expected.Stamp.Length; i++) Assert.Equal(expected.Stamp[i], result.ReferencePsf.Stamp[i], 12);
        Assert.DoesNotContain(log.Warnings, w => w.Kind == JobWarningKind.Psf);
    }

    [Fact]
    public void Without_a_science_epsf_one_is_built_on_the_science_image_for_P_n()
    {
        var pair = new Support.DifferencePair(Spec);

        var result = DifferenceImaging.Run(pair.Input, new DifferenceImagingOptions(), new SilentLog());

        var science = Assert.IsType<EffectivePsf>(result.ScienceEffectivePsf);
        Assert.Equal(PsfMethod.Empirical, science.Method);
        Assert.InRange(science.FwhmPixels, Spec.ScienceFwhm, 1.3 * Spec.ScienceFwhm);
        Assert.Equal(science.PhaseAveragedModelAt(Centre.X, Centre.Y, StampSize).Stamp[0], result.SciencePsf.Stamp[0], 12);
    }

    [Fact]
    public void A_reference_with_too_few_stars_gives_a_gaussian_P_r_and_a_psf_warning_naming_it()
    {
        var pair = new Support.DifferencePair(Spec with { Stars = 3, StarRates = (2000, 3000) });
        var log = new SilentLog();

        var result = DifferenceImaging.Run(pair.Input with { ScienceEffectivePsf = Moffat(Spec.ScienceFwhm) }, new DifferenceImagingOptions(), log);

        var reference = Assert.IsType<EffectivePsf>(result.ReferenceEffectivePsf);
        Assert.True(reference.IsFallback, $"reference ePSF {reference.Method}");
        Assert.Contains(log.Warnings, w => w.Kind == JobWarningKind.Psf && w.Message.Contains("psf: the reference PSF is a Gaussian", StringComparison.Ordinal));
    }

    [Fact]
    public void A_given_psf_replaces_its_images_epsf()
    {
        var pair = new Support.DifferencePair(Spec);
        var given = PsfModel.Gaussian(2.0, 35, PsfMethod.Given);

        var result = DifferenceImaging.Run(pair.Input with { ReferencePsf = given, ScienceEffectivePsf = Moffat(Spec.ScienceFwhm) }, new DifferenceImagingOptions(), new SilentLog());

        Assert.Same(given, result.ReferencePsf);
        Assert.Null(result.ReferenceEffectivePsf);
        Assert.NotNull(result.ScienceEffectivePsf);
    }
}
