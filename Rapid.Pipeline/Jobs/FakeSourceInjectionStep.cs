using Rapid.Core.Contracts;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
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
/// PSF: the simulator's Moffat profile (β = 2.5) whose pixel-integrated image has the same moment FWHM as the science
/// image's bright stars (adaptive second moments, as the job's flux matching measures them: a Moffat's wings make
/// its moment FWHM ~25 % wider than its true FWHM, so using the measured value directly would inject sources wider than
/// the stars and bias their aperture fluxes low); the filter's model FWHM when fewer than three stars can be measured. Each source adds its Poisson variance to the variance image and a matching noise draw
/// to the pixels, so the injected sources are as noisy as real ones.
/// </summary>
public static class FakeSourceInjectionStep
{
    /// <summary>Below this many measured stars the FWHM comes from the filter's PSF model.</summary>
    public const int MinStarsForFwhm = 3;

    /// <summary>Injects into <paramref name="science"/>'s Rate and Variance in place; null when the config asks for none.</summary>
    public static FakeSourceInjection? Inject(JobContext context, CalibratedImage science)
    {
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

        var (fwhm, psfSource) = MeasureFwhm(science);
        var psf = new MoffatPsf(fwhm);
        var sigmaPixel = Math.Sqrt(RobustStatistics.Median(Sample(science.Variance)));
        var magLimit = LimitingMagnitude(psf, sigmaPixel, settings.DetectionThresholdSigma, zeroPoint);
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
        var noise = new Random(unchecked((int)config.Seed) ^ 0x5F3759DF);
        foreach (var s in sources)
            AddSource(science, s, psf, gain, noise);
        context.Log.Info($"fake sources: {sources.Count} injected, mag {bright:F2}..{faint:F2} around the estimated 5-sigma limit {magLimit:F2}; "
                         + $"PSF FWHM {fwhm:F2} px ({psfSource}), seed {config.Seed}");
        return new FakeSourceInjection(sources, config.Seed, bright, faint, magLimit, fwhm, psfSource, config.MatchRadiusPixels, science.ExpTime);
    }

    /// <summary>
    /// FWHM (pixels) of the science image's bright stars, or of the filter's PSF model when too few are measured.
    /// The stars are measured above a global sky level (a sparse clipped median) rather than a mesh background: the
    /// job's own background step comes later, and for stars 20σ above the sky a global level is enough for their width.
    /// </summary>
    private static (double Fwhm, string Source) MeasureFwhm(CalibratedImage science)
    {
        var sky = (float)RobustStatistics.SigmaClip(Sample(science.Rate)).Median;
        var skySubtracted = new float[science.Rate.Length];
        for (var i = 0; i < skySubtracted.Length; i++) skySubtracted[i] = science.Rate[i] - sky;
        var stars = StarMeasurement.BrightStars(skySubtracted, science.Variance, science.Width, science.Height);
        if (stars.Count >= MinStarsForFwhm && StarMeasurement.MedianFwhm(stars) is var measured && double.IsFinite(measured) && measured > 0
            && MoffatFwhmForMomentFwhm(measured) is double matched)
            return (matched, "science");
        var filter = science.Header.GetString("FILTER");
        var scale = science.Wcs.PixelScaleArcsec;
        double model;
        try { model = MoffatPsf.FwhmArcsec(RomanFilter.Named(filter ?? "")) / scale; }
        catch (ArgumentException) { model = 2.0; }   // not a Roman filter: a typical well-sampled FWHM
        return (model, "model");
    }

    private static readonly (double Dx, double Dy)[] SubPixelOffsets =
        [.. from dx in new[] { 0.0, 0.25, 0.5 } from dy in new[] { 0.0, 0.25, 0.5 } select (dx, dy)];

    /// <summary>
    /// The Moffat FWHM (pixels) whose noiseless, pixel-integrated render has <paramref name="momentFwhm"/> as its moment
    /// FWHM (mean over sub-pixel offsets, since undersampled stars measure differently on and between pixels),
    /// found by bisection; null when the measurement cannot be matched (e.g. narrower than a pixel allows).
    /// </summary>
    internal static double? MoffatFwhmForMomentFwhm(double momentFwhm)
    {
        // A source at a random position is, by symmetry, like one at an offset in [0, 0.5]² from a pixel centre.
        double Measure(double fwhm)
        {
            const int size = 41;
            var psf = new MoffatPsf(fwhm);
            var variance = Enumerable.Repeat(1f, size * size).ToArray();
            double sum = 0;
            var n = 0;
            foreach (var (dx, dy) in SubPixelOffsets)
            {
                var image = new float[size * size];
                StampRenderer.AddPointSource(image, size, size, size / 2 + dx, size / 2 + dy, 1e6, psf);
                var stars = StarMeasurement.BrightStars(image, variance, size, size);
                if (stars.Count == 0) continue;
                sum += stars[0].Fwhm;
                n++;
            }
            return n == 0 ? double.NaN : sum / n;
        }

        double lo = 0.3 * momentFwhm, hi = 1.5 * momentFwhm;
        var (mlo, mhi) = (Measure(lo), Measure(hi));
        if (!(mlo <= momentFwhm && momentFwhm <= mhi)) return null;
        for (var i = 0; i < 30 && hi - lo > 1e-3; i++)
        {
            var mid = (lo + hi) / 2;
            if (Measure(mid) < momentFwhm) lo = mid; else hi = mid;
        }
        return (lo + hi) / 2;
    }

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
    /// </summary>
    internal static double LimitingMagnitude(MoffatPsf psf, double sigmaPixel, double thresholdSigma, double zeroPoint)
    {
        var h = psf.StampHalfSize(1e-3, maxHalfSize: 32);
        var stamp = new double[(2 * h + 1) * (2 * h + 1)];
        psf.FillStamp(stamp, h, 0, 0);
        var sumOfSquares = 0.0;
        foreach (var v in stamp) sumOfSquares += v * v;
        var limitFlux = thresholdSigma * sigmaPixel / Math.Sqrt(sumOfSquares);
        return zeroPoint - 2.5 * Math.Log10(limitFlux);
    }

    /// <summary>Adds one source (DN in the exposure) to the rate image with its Poisson noise and variance.</summary>
    private static void AddSource(CalibratedImage science, InjectedSource s, MoffatPsf psf, double gain, Random noise)
    {
        var t = science.ExpTime;
        var rate = s.FluxDn / t;
        double x = s.X - 1, y = s.Y - 1;
        var ic = (int)Math.Round(x);
        var jc = (int)Math.Round(y);
        // Wings below ~0.05 DN per pixel are folded into the stamp, as the simulator draws its stars.
        var h = psf.StampHalfSize(Math.Clamp(0.05 / s.FluxDn, 1e-6, 1e-2));
        var n = 2 * h + 1;
        var stamp = new double[n * n];
        psf.FillStamp(stamp, h, x - ic, y - jc);
        for (var j = 0; j < n; j++)
        {
            var py = jc + j - h;
            if (py < 0 || py >= science.Height) continue;
            for (var i = 0; i < n; i++)
            {
                var px = ic + i - h;
                if (px < 0 || px >= science.Width) continue;
                var k = py * science.Width + px;
                var added = rate * stamp[j * n + i];
                if (!(added > 0) || !float.IsFinite(science.Rate[k])) continue;
                // Poisson variance of `added` DN/s over t seconds at `gain` e-/DN, in (DN/s)².
                var variance = added / (gain * t);
                science.Rate[k] += (float)(added + Math.Sqrt(variance) * SimulationRandom.NextGaussian(noise));
                science.Variance[k] += (float)variance;
            }
        }
    }
}
