using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Support;

/// <summary>A point source on the sky: position (deg) and count rate (DN/s).</summary>
public sealed record SkyStar(double RaDeg, double DecDeg, double Rate);

/// <summary>
/// Small synthetic L2 frames of one star field: Gaussian stars, a flat sky, Gaussian read and shot noise,
/// a north-up TAN WCS (TanSipWcs.NorthUp) offset by a sub-pixel shift per frame, EXPTIME/GAIN/RDNOISE keywords.
/// </summary>
public sealed class SyntheticSurvey
{
    public const double RaDeg = 150.0;
    public const double DecDeg = 2.0;
    public const double PixelScaleArcsec = 0.5;
    public const double ExpTime = 100;
    public const double Gain = 2.0;
    public const double ReadNoise = 5.0;
    public const double SkyRate = 5.0;
    public const double PsfSigma = 1.3;

    public SyntheticSurvey(int size, int starCount, int seed)
    {
        Size = size;
        var random = new Random(seed);
        var centre = Wcs(0, 0);
        var stars = new List<SkyStar>();
        while (stars.Count < starCount)
        {
            double x = 12 + random.NextDouble() * (size - 24), y = 12 + random.NextDouble() * (size - 24);
            // Keep stars apart so the isolated-star measurements and the test's own look-ups are unambiguous.
            if (stars.Any(s => { var (sx, sy) = centre.SkyToPixel(s.RaDeg, s.DecDeg); return Math.Abs(sx - 1 - x) < 14 && Math.Abs(sy - 1 - y) < 14; })) continue;
            var (ra, dec) = centre.PixelToSky(x + 1, y + 1);
            stars.Add(new SkyStar(ra, dec, 40 + random.NextDouble() * 160));
        }
        Stars = stars;
    }

    public int Size { get; }
    public IReadOnlyList<SkyStar> Stars { get; }

    /// <summary>The WCS of a frame shifted by (dx, dy) pixels relative to the field centre.</summary>
    public TanSipWcs Wcs(double dx, double dy) =>
        TanSipWcs.NorthUp(RaDeg, DecDeg, (Size + 1) / 2.0 + dx, (Size + 1) / 2.0 + dy, PixelScaleArcsec);

    /// <summary>A 0-based array pixel of the frame with <paramref name="wcs"/> at least 15 px from every star and 30 px from the edges.</summary>
    public (int X, int Y) FreePixel(TanSipWcs wcs)
    {
        for (var y = 30; y < Size - 30; y += 5)
            for (var x = 30; x < Size - 30; x += 5)
                if (Stars.All(s => { var (sx, sy) = wcs.SkyToPixel(s.RaDeg, s.DecDeg); return Math.Abs(sx - 1 - x) > 15 || Math.Abs(sy - 1 - y) > 15; }))
                    return (x, y);
        throw new InvalidOperationException("no pixel free of stars");
    }

    /// <summary>
    /// Renders a frame in DN and writes it with FitsFile; extra stars, removed stars, a cosmic-ray track and a zero point
    /// (ZPTMAG, AB mag of 1 DN/s) are optional.
    /// </summary>
    public void WriteFrame(string path, double dx, double dy, int seed, double mjd,
        IEnumerable<SkyStar>? extra = null, SkyStar? without = null, (int X, int Y, float Dn)? cosmicRay = null, double? zeroPoint = null)
    {
        var random = new Random(seed);
        var wcs = Wcs(dx, dy);
        var pixels = new float[Size * Size];
        foreach (var star in Stars.Where(s => s != without).Concat(extra ?? []))
        {
            var (x, y) = wcs.SkyToPixel(star.RaDeg, star.DecDeg);
            StarField.AddGaussian(pixels, Size, Size, x - 1, y - 1, star.Rate * ExpTime, PsfSigma);
        }
        for (var i = 0; i < pixels.Length; i++)
        {
            var dn = pixels[i] + SkyRate * ExpTime;
            pixels[i] = (float)(dn + Math.Sqrt(dn / Gain + ReadNoise * ReadNoise) * StarField.Normal(random));
        }
        // A cosmic-ray track: four pixels in a row from (X, Y) to (X + 3, Y).
        if (cosmicRay is { } cr)
            for (var k = 0; k < 4; k++) pixels[cr.Y * Size + cr.X + k] += cr.Dn;
        var header = new FitsHeader();
        wcs.WriteTo(header);
        header.Set("EXPTIME", ExpTime, "s");
        header.Set("GAIN", Gain, "e-/DN");
        header.Set("RDNOISE", ReadNoise, "DN");
        header.Set("MJD-OBS", mjd);
        header.Set("FILTER", "F158");
        if (zeroPoint is double zp) header.Set(Rapid.Pipeline.Fits.ProductKeywords.ZeroPoint, zp);
        FitsFile.WriteImage(path, new FitsImage(Size, Size, pixels, header));
    }
}
