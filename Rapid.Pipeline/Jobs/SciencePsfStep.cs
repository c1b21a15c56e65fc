using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Simulation;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// The science image's effective PSF, built from its own stars on the calibrated image before anything (fake sources)
/// is injected into it, so that the ePSF describes only real stars and the fakes can be drawn with it. A PSF given in
/// the job config is used as it is.
/// </summary>
public static class SciencePsfStep
{
    public static EffectivePsf Build(JobContext context, CalibratedImage science, PsfModel? given, EffectivePsfOptions options)
    {
        ArgumentNullException.ThrowIfNull(science);
        ArgumentNullException.ThrowIfNull(options);
        if (given is not null) return EffectivePsf.FromModel(given);
        using var step = context.Log.Step("psf.science");
        // Each star's sky is measured around it; the global level and noise only set the candidates' threshold.
        var sample = new float[(science.Rate.Length + 16) / 17];
        for (int i = 0, k = 0; i < science.Rate.Length; i += 17, k++) sample[k] = science.Rate[i];
        var sky = RobustStatistics.SigmaClip(sample);
        if (!(sky.Sigma > 0)) throw JobFailedException.InvalidInput($"{science.Source}: no background noise could be measured (sigma {sky.Sigma:G4} DN/s)");
        // Saturated pixels are NaN already, and stars touching NaN are not used.
        var psf = new EffectivePsfBuilder(options with { DefaultFwhm = ModelFwhm(science) ?? options.DefaultFwhm })
            .Build(science.Rate, science.Width, science.Height, sky.Sigma, double.PositiveInfinity, sky.Median);
        context.Log.Info($"science ePSF before injection: {psf.Method} from {psf.StarsUsed} stars, oversampling {psf.Oversampling}, "
                         + $"variation degree {psf.Degree}, FWHM {psf.FwhmPixels:F3} px");
        // Its normalisation's error is needed only when fluxes are measured: computed meanwhile, beside the other steps.
        _ = Task.Run(() => psf.WingLightError);
        return psf;
    }

    /// <summary>The FWHM (pixels) of the filter's PSF model, for the fallback when too few stars are found; null for a filter not modelled.</summary>
    private static double? ModelFwhm(CalibratedImage science)
    {
        try { return MoffatPsf.FwhmArcsec(RomanFilter.Named(science.Header.GetString("FILTER") ?? "")) / science.Wcs.PixelScaleArcsec; }
        catch (ArgumentException) { return null; }
    }
}
