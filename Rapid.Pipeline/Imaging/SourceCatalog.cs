using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Imaging;

/// <summary>
/// A catalogued source. X, Y: 0-based array coordinates (the table stores 1-based FITS pixels);
/// RA, Dec in degrees; Flux, FluxError in the image's units (DN/s); Sign +1 or −1.
/// </summary>
public sealed record CatalogSource(int Id, double X, double Y, double RaDeg, double DecDeg,
    double Flux, double FluxError, double Snr, int Sign, int Flags);

/// <summary>Measures detections and writes them as a FITS binary table with SExtractor-like column names.</summary>
public static class SourceCatalog
{
    /// <summary>Aperture radius (pixels) for a given FWHM: 1.5 FWHM holds 99.8 % of a Gaussian's flux; at least 3 px.</summary>
    public static double ApertureRadius(double fwhm) => double.IsFinite(fwhm) && fwhm > 0 ? Math.Max(3.0, 1.5 * fwhm) : 5.0;

    /// <param name="apertureCorrection">Multiplies flux and error: the total flux over the flux in the aperture (see <see cref="ApertureCorrection"/>).</param>
    public static IReadOnlyList<CatalogSource> Measure(IReadOnlyList<Detection> detections, float[] image, float[] variance,
        int width, int height, TanSipWcs wcs, double apertureRadius, double apertureCorrection = 1.0)
    {
        var sources = new List<CatalogSource>(detections.Count);
        foreach (var d in detections.OrderBy(d => d.Y).ThenBy(d => d.X))
        {
            var flux = AperturePhotometry.Measure(image, variance, width, height, d.X, d.Y, apertureRadius);
            var (ra, dec) = wcs.PixelToSky(d.X + 1, d.Y + 1);
            var snr = flux.FluxError > 0 ? flux.Flux / flux.FluxError : double.NaN;
            sources.Add(new CatalogSource(sources.Count + 1, d.X, d.Y, ra, dec,
                flux.Flux * apertureCorrection, flux.FluxError * apertureCorrection, snr, d.Sign, flux.Flags));
        }
        return sources;
    }

    /// <summary>
    /// The aperture correction from bright stars: median of flux within max(8, 4·FWHM) px over flux within
    /// <paramref name="apertureRadius"/>, clamped to [1, 1.5]; 1 when no star can be measured. It restores the
    /// PSF wings (a Moffat-like PSF loses several per cent outside 1.5 FWHM) without the noise of a large aperture.
    /// </summary>
    public static double ApertureCorrection(IReadOnlyList<MeasuredStar> stars, float[] image, float[] variance, int width, int height, double fwhm, double apertureRadius)
    {
        var large = Math.Max(8.0, 4 * (double.IsFinite(fwhm) ? fwhm : 2));
        var ratios = new List<float>();
        foreach (var s in stars)
        {
            var small = AperturePhotometry.Measure(image, variance, width, height, s.X, s.Y, apertureRadius);
            var total = AperturePhotometry.Measure(image, variance, width, height, s.X, s.Y, large);
            if (small.Flags == 0 && total.Flags == 0 && small.Flux > 0) ratios.Add((float)(total.Flux / small.Flux));
        }
        return ratios.Count == 0 ? 1.0 : Math.Clamp(RobustStatistics.Median(ratios.ToArray()), 1.0, 1.5);
    }

    public static FitsTable ToTable(IReadOnlyList<CatalogSource> sources, string extName = "SOURCES")
    {
        var table = new FitsTable(extName);
        table.AddColumn("ID", sources.Select(s => s.Id).ToArray());
        table.AddColumn("X_IMAGE", sources.Select(s => s.X + 1).ToArray(), ProductUnits.Pixel);
        table.AddColumn("Y_IMAGE", sources.Select(s => s.Y + 1).ToArray(), ProductUnits.Pixel);
        table.AddColumn("RA", sources.Select(s => s.RaDeg).ToArray(), ProductUnits.Degree);
        table.AddColumn("DEC", sources.Select(s => s.DecDeg).ToArray(), ProductUnits.Degree);
        table.AddColumn("FLUX", sources.Select(s => s.Flux).ToArray(), ProductUnits.Rate);
        table.AddColumn("FLUXERR", sources.Select(s => s.FluxError).ToArray(), ProductUnits.Rate);
        table.AddColumn("SNR", sources.Select(s => s.Snr).ToArray());
        table.AddColumn("SIGN", sources.Select(s => (short)s.Sign).ToArray());
        table.AddColumn("FLAGS", sources.Select(s => s.Flags).ToArray());
        return table;
    }
}
