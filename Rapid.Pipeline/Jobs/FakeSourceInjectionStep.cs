using Rapid.Core.Contracts;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Simulation;
using Rapid.Pipeline.Simulation.Injection;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// What a science job injected. Sources' X, Y are 1-based FITS pixels and FluxDn is DN in the exposure
/// (the image they went into is in DN/s: divide by <see cref="ExposureTimeSeconds"/>).
/// </summary>
public sealed record FakeSourceInjection(
    IReadOnlyList<InjectedSource> Sources, long Seed, double BrightMag, double FaintMag, double MagLimit,
    double PsfFwhmPixels, string PsfSource, double MatchRadiusPixels, double ExposureTimeSeconds);

/// <summary>
/// Injects fake point sources into the calibrated science image (DN/s) and its variance before subtraction, as the
/// original's FAKE_SOURCES option and Obiwan (Kong et al. 2020) do, so every night measures its own completeness.
/// Each fake is the science image's effective PSF (Anderson &amp; King 2000; <see cref="EffectivePsf"/>, built from the
/// image's own stars before anything is injected) rendered at the fake's position and sub-pixel phase, so fakes have
/// exactly the stars' profile, undersampling included. Each source adds its Poisson variance to the variance image and
/// a matching noise draw to the pixels, so the injected sources are as noisy as real ones.
/// </summary>
public static class FakeSourceInjectionStep
{
    /// <summary>Injects into <paramref name="science"/>'s Rate and Variance in place; null when the config asks for none.</summary>
    /// <param name="psf">The science image's ePSF, built before injection (or from a given PSF).</param>
    public static FakeSourceInjection? Inject(JobContext context, CalibratedImage science, EffectivePsf psf)
    {
        ArgumentNullException.ThrowIfNull(psf);
        var config = context.Spec<ScienceSpec>().FakeSources;
        if (config is null || !config.Enabled || config.Count <= 0) return null;
        using var step = context.Log.Step("fake_sources.inject");
        if (science.ZeroPointMag is not double zeroPoint)
        {
            context.Warn(JobWarningKind.FakeSources, $"fake sources: {science.Source} has no ZPTMAG, so magnitudes cannot be turned into fluxes; none injected");
            return null;
        }
        var settings = context.Config.Settings;
        int width = science.Width, height = science.Height;

        var sigmaPixel = Math.Sqrt(RobustStatistics.Median(Sample(science.Variance)));
        var magLimit = LimitingMagnitude(psf.ModelAt((width - 1) / 2.0, (height - 1) / 2.0), sigmaPixel, settings.DetectionThresholdSigma, zeroPoint);
        var bright = config.BrightMag ?? magLimit + config.BrightOffsetMag;
        var faint = config.FaintMag ?? magLimit + config.FaintOffsetMag;

        // Random sequential placement stalls well before the jamming limit: keep to a quarter of it.
        var room = Math.Max(0, width - 2.0 * config.EdgeMarginPixels) * Math.Max(0, height - 2.0 * config.EdgeMarginPixels);
        var fits = (int)Math.Max(0, room / (4 * config.MinSeparationPixels * config.MinSeparationPixels));
        var count = Math.Min(config.Count, fits);
        if (count < config.Count) context.Log.Info($"fake sources: {config.Count} asked, {count} fit {config.MinSeparationPixels} px apart on a {width}x{height} image");
        if (count == 0)
        {
            context.Warn(JobWarningKind.FakeSources, $"fake sources: a {width}x{height} image has no room inside a {config.EdgeMarginPixels} px margin; none injected");
            return null;
        }

        IReadOnlyList<InjectedSource> sources;
        try
        {
            var placement = new FakeSourceSettings
            {
                Count = count, BrightMag = bright, FaintMag = faint, EdgeMarginPixels = config.EdgeMarginPixels,
                MinSeparationPixels = config.MinSeparationPixels, Seed = unchecked((int)config.Seed),
            };
            sources = FakeSourceInjector.Place(new FitsImage(width, height, science.Rate), science.Wcs, zeroPoint, science.ExpTime, placement);
        }
        catch (ArgumentException e)
        {
            throw new JobFailedException(Core.Jobs.ExitCodes.InvalidConfig, e.Message, e);
        }

        // Calibration already checked the gain keyword: a value here is usable.
        var gain = DetectorKeywords.Number(science.Header, DetectorKeywords.Gain, settings.DefaultGain, science.Source, 0, minExclusive: true).Value;
        AddSources(science.Rate, science.Variance, width, height, psf, sources, science.ExpTime, gain, new Random(unchecked((int)config.Seed) ^ 0x5F3759DF));
        var psfSource = PsfSource(psf);
        context.Log.Info($"fake sources: {sources.Count} injected, mag {bright:F2}..{faint:F2} around the estimated 5-sigma limit {magLimit:F2}; "
                         + $"ePSF FWHM {psf.FwhmPixels:F2} px ({psfSource}), seed {config.Seed}");
        return new FakeSourceInjection(sources, config.Seed, bright, faint, magLimit, psf.FwhmPixels, psfSource, config.MatchRadiusPixels, science.ExpTime);
    }

    /// <summary>
    /// Adds the sources (DN in an exposure of <paramref name="exposureTime"/> s) to a rate image (DN/s) and its variance,
    /// in place: each is flux · ψ rendered at its position and sub-pixel phase over the ePSF's whole extent, with its
    /// Poisson variance (gain in e-/DN) added to the variance and a matching Gaussian draw from <paramref name="noise"/>
    /// to the pixels. NaN pixels (saturated, bad) stay NaN. For callers that inject into an image of their own.
    /// </summary>
    public static void AddSources(float[] rate, float[] variance, int width, int height, EffectivePsf psf, IEnumerable<InjectedSource> sources,
        double exposureTime, double gain, Random noise)
    {
        ArgumentNullException.ThrowIfNull(psf);
        ArgumentNullException.ThrowIfNull(sources);
        if (rate.Length != (long)width * height || variance.Length != rate.Length) throw new ArgumentException($"the images do not hold {width} x {height} pixels");
        if (!(exposureTime > 0) || !(gain > 0)) throw new ArgumentException($"exposure time {exposureTime} s and gain {gain} e-/DN must be positive");
        var n = 2 * (int)Math.Ceiling(psf.RadiusPixels) + 1;
        foreach (var s in sources)
        {
            double x = s.X - 1, y = s.Y - 1;
            var perSecond = s.FluxDn / exposureTime;
            var stamp = psf.Render(x, y, n);
            var (x0, y0) = ((int)Math.Round(x) - n / 2, (int)Math.Round(y) - n / 2);
            for (var j = 0; j < n; j++)
            {
                var py = y0 + j;
                if (py < 0 || py >= height) continue;
                for (var i = 0; i < n; i++)
                {
                    var px = x0 + i;
                    if (px < 0 || px >= width) continue;
                    var k = py * width + px;
                    var added = perSecond * stamp[j * n + i];
                    if (!(added > 0) || !float.IsFinite(rate[k])) continue;
                    // Poisson variance of `added` DN/s over t seconds at `gain` e-/DN, in (DN/s)².
                    var v = added / (gain * exposureTime);
                    rate[k] += (float)(added + Math.Sqrt(v) * SimulationRandom.NextGaussian(noise));
                    variance[k] += (float)v;
                }
            }
        }
    }

    /// <summary>
    /// Where the injected profile came from, in the manifest's vocabulary: "science" for the science image's own PSF
    /// (its ePSF, or a PSF file given for it), "model" for an analytic fallback.
    /// </summary>
    private static string PsfSource(EffectivePsf psf) => psf.IsFallback ? "model" : "science";

    /// <summary>Every 17th pixel (a stride prime to any row length that matters): statistics of ~1 M values instead of 17 M.</summary>
    private static float[] Sample(float[] pixels)
    {
        const int stride = 17;
        var sample = new float[(pixels.Length + stride - 1) / stride];
        for (int i = 0, k = 0; i < pixels.Length; i += stride, k++) sample[k] = pixels[i];
        return sample;
    }

    /// <summary>
    /// The faintest point source the job's detector finds. Detection is on ZOGY's S_corr, the PSF-matched filter
    /// (Zackay, Ofek and Gal-Yam 2016, sec. 3), whose S/N for flux F in background-limited noise is
    /// F · sqrt(Σ P²) / σ_pixel; the limit is where that reaches the threshold. σ_pixel is the science image's median
    /// uncertainty; the reference adds a little to the difference image's, so the true limit is slightly brighter.
    /// P is the ePSF of a source centred on a pixel (the phase where Σ P² is largest, as ZOGY's P_n is taken).
    /// </summary>
    internal static double LimitingMagnitude(PsfModel psf, double sigmaPixel, double thresholdSigma, double zeroPoint)
    {
        var sumOfSquares = 0.0;
        foreach (var v in psf.Stamp) sumOfSquares += v * v;
        var limitFlux = thresholdSigma * sigmaPixel / Math.Sqrt(sumOfSquares);
        return zeroPoint - 2.5 * Math.Log10(limitFlux);
    }
}
