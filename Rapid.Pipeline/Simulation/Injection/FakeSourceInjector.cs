using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Simulation.Injection;

/// <summary>
/// How many fake point sources to inject and where: magnitudes uniform in [BrightMag, FaintMag] (AB; spread
/// them over the detection limit), positions uniform at least EdgeMarginPixels from the edges, off NaN pixels,
/// and at least MinSeparationPixels apart, as the original's FAKE_SOURCES config section does.
/// </summary>
public sealed record FakeSourceSettings
{
    public int Count { get; init; } = 50;
    public double BrightMag { get; init; } = 21.0;
    public double FaintMag { get; init; } = 26.5;
    public int EdgeMarginPixels { get; init; } = 32;
    public double MinSeparationPixels { get; init; } = 12;
    public int Seed { get; init; } = 1;
}

/// <summary>One injected source: X, Y are 1-based FITS pixels; FluxDn is DN in the exposure.</summary>
public sealed record InjectedSource(int Index, double X, double Y, double RaDeg, double DecDeg, double Mag, double FluxDn);

/// <summary>
/// Injects fake point sources (Obiwan-style injection–recovery, Kong et al. 2020) into an image in DN per exposure,
/// drawn with the simulator's Moffat PSF through postage stamps, so the same images can be scored for completeness.
/// </summary>
public static class FakeSourceInjector
{
    /// <summary>
    /// Adds the sources to <paramref name="image"/>'s pixels in place and returns them. Flux: DN = 10^(−0.4 (m − ZPTMAG)) · EXPTIME
    /// with ZPTMAG the DN/s zero point. Deterministic for the settings' seed. Throws ArgumentException naming
    /// the problem when the image is too small for the margin or the settings are inconsistent.
    /// </summary>
    public static IReadOnlyList<InjectedSource> Inject(FitsImage image, TanSipWcs wcs, double zeroPointMag, double exposureTimeSeconds,
        double psfFwhmPixels, FakeSourceSettings settings)
    {
        var placed = Place(image, wcs, zeroPointMag, exposureTimeSeconds, settings);
        var psf = new MoffatPsf(psfFwhmPixels);
        foreach (var s in placed)
            StampRenderer.AddPointSource(image.Pixels, image.Width, image.Height, s.X - 1, s.Y - 1, s.FluxDn, psf);
        return placed;
    }

    /// <summary>
    /// Chooses positions and magnitudes (as <see cref="Inject"/>) without drawing anything, for callers that render
    /// the sources themselves (the science job also adds their Poisson variance and noise).
    /// </summary>
    public static IReadOnlyList<InjectedSource> Place(FitsImage image, TanSipWcs wcs, double zeroPointMag, double exposureTimeSeconds,
        FakeSourceSettings settings)
    {
        if (settings.Count < 0) throw new ArgumentException($"fake sources: Count = {settings.Count}; must not be negative");
        if (!(settings.BrightMag <= settings.FaintMag)) throw new ArgumentException($"fake sources: BrightMag {settings.BrightMag} is fainter than FaintMag {settings.FaintMag}");
        if (!(exposureTimeSeconds > 0)) throw new ArgumentException($"fake sources: exposure time {exposureTimeSeconds} s must be > 0");
        var m = settings.EdgeMarginPixels;
        if (image.Width <= 2 * m || image.Height <= 2 * m)
            throw new ArgumentException($"fake sources: a {image.Width}x{image.Height} image leaves no room inside a {m} px edge margin");

        var rng = SimulationRandom.For(settings.Seed, 41, image.Width, image.Height);
        var placed = new List<InjectedSource>();
        var minSep2 = settings.MinSeparationPixels * settings.MinSeparationPixels;
        for (var attempt = 0; placed.Count < settings.Count && attempt < settings.Count * 200; attempt++)
        {
            // 0-based array position; the FITS pixel is one more.
            var x = rng.Uniform(m, image.Width - 1 - m);
            var y = rng.Uniform(m, image.Height - 1 - m);
            var mag = rng.Uniform(settings.BrightMag, settings.FaintMag);
            if (float.IsNaN(image[(int)Math.Round(x), (int)Math.Round(y)])) continue;
            if (placed.Any(p => (p.X - 1 - x) * (p.X - 1 - x) + (p.Y - 1 - y) * (p.Y - 1 - y) < minSep2)) continue;
            var flux = Math.Pow(10, -0.4 * (mag - zeroPointMag)) * exposureTimeSeconds;
            var (ra, dec) = wcs.PixelToSky(x + 1, y + 1);
            placed.Add(new InjectedSource(placed.Count + 1, x + 1, y + 1, ra, dec, mag, flux));
        }
        if (placed.Count < settings.Count)
            throw new ArgumentException($"fake sources: only {placed.Count} of {settings.Count} fit {settings.MinSeparationPixels} px apart on valid pixels");
        return placed;
    }
}
