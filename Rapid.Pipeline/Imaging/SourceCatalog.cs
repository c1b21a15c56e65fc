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

    public static IReadOnlyList<CatalogSource> Measure(IReadOnlyList<Detection> detections, float[] image, float[] variance,
        int width, int height, TanSipWcs wcs, double apertureRadius)
    {
        var sources = new List<CatalogSource>(detections.Count);
        foreach (var d in detections.OrderBy(d => d.Y).ThenBy(d => d.X))
        {
            var flux = AperturePhotometry.Measure(image, variance, width, height, d.X, d.Y, apertureRadius);
            var (ra, dec) = wcs.PixelToSky(d.X + 1, d.Y + 1);
            var snr = flux.FluxError > 0 ? flux.Flux / flux.FluxError : double.NaN;
            sources.Add(new CatalogSource(sources.Count + 1, d.X, d.Y, ra, dec, flux.Flux, flux.FluxError, snr, d.Sign, flux.Flags));
        }
        return sources;
    }

    public static FitsTable ToTable(IReadOnlyList<CatalogSource> sources, string extName = "SOURCES")
    {
        var table = new FitsTable(extName);
        table.AddColumn("ID", sources.Select(s => s.Id).ToArray());
        table.AddColumn("X_IMAGE", sources.Select(s => s.X + 1).ToArray(), "pix");
        table.AddColumn("Y_IMAGE", sources.Select(s => s.Y + 1).ToArray(), "pix");
        table.AddColumn("RA", sources.Select(s => s.RaDeg).ToArray(), "deg");
        table.AddColumn("DEC", sources.Select(s => s.DecDeg).ToArray(), "deg");
        table.AddColumn("FLUX", sources.Select(s => s.Flux).ToArray(), "DN/s");
        table.AddColumn("FLUXERR", sources.Select(s => s.FluxError).ToArray(), "DN/s");
        table.AddColumn("SNR", sources.Select(s => s.Snr).ToArray());
        table.AddColumn("SIGN", sources.Select(s => (short)s.Sign).ToArray());
        table.AddColumn("FLAGS", sources.Select(s => s.Flags).ToArray());
        return table;
    }
}
