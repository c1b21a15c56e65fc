using Rapid.Core.Contracts;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Simulation.Injection;
using Rapid.Pipeline.Subtraction;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// What a science job injected and what came back. Sources' X, Y are 1-based FITS pixels and FluxDn is DN in the
/// exposure (divide by <see cref="ExposureTimeSeconds"/> for DN/s); Recovered holds, per source, the detection the
/// pipeline made of it (null when it found none).
/// </summary>
public sealed record FakeSourceInjection(
    IReadOnlyList<InjectedSource> Sources, long Seed, double BrightMag, double FaintMag, double MagLimit,
    double PsfFwhmPixels, string PsfSource, double MatchRadiusPixels, double ExposureTimeSeconds)
{
    public IReadOnlyList<DifferenceSource?> Recovered { get; init; } = [];
}

/// <summary>Draws one injected source: its light (N's unit, DN/s) and the Poisson variance it adds, as a stamp.</summary>
public interface IFakeSourceRenderer
{
    /// <summary>Where the PSF came from (the recovery tables' PSFSRC: "science" when measured on the science image, "model" for a filter's model).</summary>
    string Source { get; }
    double FwhmPixels { get; }
    /// <summary>A source of <paramref name="rate"/> DN/s at (x, y), 0-based, with its noise drawn from <paramref name="noise"/>.</summary>
    AddedLight Render(double x, double y, double rate, double gain, double exposureTime, Random noise);
}

/// <summary>
/// Injected sources drawn with the science image's effective PSF (Anderson and King 2000, PASP 112, 1360), estimated
/// before anything was injected, at each source's own sub-pixel phase: the pixels a real point source there would
/// have, aliasing of an undersampled PSF included (a Fourier shift of a native-pixel model cannot give them), with
/// Poisson noise of gain and exposure time added and its variance.
/// </summary>
public sealed class EffectivePsfRenderer(EffectivePsf psf) : IFakeSourceRenderer
{
    public string Source => "science";
    public double FwhmPixels => psf.FwhmPixels;

    public AddedLight Render(double x, double y, double rate, double gain, double exposureTime, Random noise)
    {
        ArgumentNullException.ThrowIfNull(noise);
        var size = 2 * (int)Math.Ceiling(psf.RadiusPixels) + 1;
        var stamp = psf.Render(x, y, size);
        var variance = new double[stamp.Length];
        for (var i = 0; i < stamp.Length; i++)
        {
            var light = rate * stamp[i];
            stamp[i] = light;
            if (!(light > 0)) continue;
            // Poisson variance of `light` DN/s over the exposure at `gain` e-/DN, in (DN/s)^2.
            variance[i] = light / (gain * exposureTime);
            stamp[i] = light + Math.Sqrt(variance[i]) * Simulation.SimulationRandom.NextGaussian(noise);
        }
        return new AddedLight((int)Math.Round(x), (int)Math.Round(y), size, stamp, variance);
    }
}

/// <summary>
/// Injection-recovery without touching what the job delivers (as the original's FAKE_SOURCES option and Obiwan, Kong et
/// al. 2020, measure completeness, but never in the products): sources are placed on the science image, drawn with
/// the science PSF (<see cref="IFakeSourceRenderer"/>), and each is measured by the same detection and photometry as
/// the catalog through <see cref="DifferenceMeasurement.MeasureInjected"/> — ZOGY is linear in the new image, so a
/// source's share of S, of S_corr's variance and of D is computed in a window around it (Zackay, Ofek and Gal-Yam 2016,
/// sec. 3). Magnitudes straddle the 5 sigma limit the subtraction itself has: 5 sigma_alpha of background noise, from
/// ZOGY's kernels and the images' noise.
/// </summary>
public static class FakeSourceInjectionStep
{
    /// <summary>
    /// Fakes are drawn with the PSF the catalog's fluxes rest on: the science ePSF when the photometry was normalised by
    /// it, else (the stars disagreed with it, a psf warning) the science PSF model ZOGY's P_n is, as an ePSF sampled at
    /// whole pixels; an ePSF the job did not trust would measure the fakes against a PSF no real source has.
    /// </summary>
    public static IFakeSourceRenderer RendererFor(DifferenceImagingResult difference, EffectivePsf scienceEpsf)
    {
        ArgumentNullException.ThrowIfNull(difference);
        ArgumentNullException.ThrowIfNull(scienceEpsf);
        return new EffectivePsfRenderer(difference.Measurement.Normalisation.Psf is not null ? scienceEpsf : EffectivePsf.FromModel(difference.SciencePsf));
    }

    /// <summary>Null when the config asks for none (or the image cannot take any: a warning says why).</summary>
    public static FakeSourceInjection? Run(JobContext context, CalibratedImage science, DifferenceImagingResult difference, IFakeSourceRenderer renderer)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(science);
        ArgumentNullException.ThrowIfNull(difference);
        ArgumentNullException.ThrowIfNull(renderer);
        var config = context.Spec<ScienceSpec>().FakeSources;
        if (config is null || !config.Enabled || config.Count <= 0) return null;
        using var step = context.Log.Step("fake_sources");
        if (science.ZeroPointMag is not double zeroPoint)
        {
            context.Warn(JobWarningKind.FakeSources, $"fake sources: {science.Source} has no ZPTMAG, so magnitudes cannot be turned into fluxes; none injected");
            return null;
        }
        int width = science.Width, height = science.Height;
        var measurement = difference.Measurement;
        var magLimit = LimitingMagnitude(measurement, zeroPoint);
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
        var gain = DetectorKeywords.Number(science.Header, DetectorKeywords.Gain, context.Config.Settings.DefaultGain, science.Source, 0, minExclusive: true).Value;
        var noise = new Random(unchecked((int)config.Seed) ^ 0x5F3759DF);
        var lights = sources.Select(s => renderer.Render(s.X - 1, s.Y - 1, s.FluxDn / science.ExpTime, gain, science.ExpTime, noise)).ToList();
        var recovered = new DifferenceSource?[sources.Count];
        var reach = lights.Count == 0 ? 0 : lights.Max(l => l.Side) + measurement.Local.Centre.Radius;
        Parallel.For(0, sources.Count, k =>
        {
            var s = sources[k];
            // Every injected source whose light can reach this one's window (they are at least MinSeparation apart).
            var near = lights.Where(l => Math.Abs(l.X - lights[k].X) <= reach && Math.Abs(l.Y - lights[k].Y) <= reach).ToList();
            recovered[k] = measurement.MeasureInjected(s.X - 1, s.Y - 1, config.MatchRadiusPixels, near);
        });
        context.Log.Info($"fake sources: {sources.Count} measured, mag {bright:F2}..{faint:F2} around the 5-sigma limit {magLimit:F2}; "
                         + $"PSF FWHM {renderer.FwhmPixels:F2} px ({renderer.Source}), seed {config.Seed}; nothing added to the products");
        return new FakeSourceInjection(sources, config.Seed, bright, faint, magLimit, renderer.FwhmPixels, renderer.Source, config.MatchRadiusPixels, science.ExpTime)
        {
            Recovered = recovered,
        };
    }

    /// <summary>
    /// The point-source magnitude at the detection threshold in force, of the background alone: T sigma_alpha, with sigma_alpha
    /// = sqrt(V(S)) / F_S of ZOGY's optimal flux (Zackay, Ofek and Gal-Yam 2016, eq. 41-43) where only the background
    /// noise of both images enters, normalised like the catalog's fluxes.
    /// </summary>
    internal static double LimitingMagnitude(DifferenceMeasurement measurement, double zeroPoint)
    {
        var local = measurement.Local;
        var k = local.Centre;
        double vn = 0, vr = 0;
        foreach (var v in k.New) vn += v * v;
        foreach (var v in k.Reference) vr += v * v;
        var noise = local.Noise;
        var sigmaAlpha = Math.Sqrt(vn * noise.SigmaNew * noise.SigmaNew + vr * noise.SigmaReference * noise.SigmaReference) / local.Kernels.ScoreFluxScale;
        var limitFlux = measurement.Detector.Threshold * sigmaAlpha * measurement.Normalisation.Factor;
        return zeroPoint - 2.5 * Math.Log10(limitFlux);
    }
}
