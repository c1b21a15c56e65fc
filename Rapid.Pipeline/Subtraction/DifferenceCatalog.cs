using System.Text;
using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// One row of the difference catalog. X, Y 0-based science pixels (written 1-based); RA/Dec degrees; Flux, FluxError in
/// the science image's DN/s (signed: negative sources are fainter now than in the reference); Snr the peak |S_corr|;
/// Fwhm, Elongation and PointLike from <see cref="Imaging.MomentShape"/>; Flags <see cref="DifferenceSourceFlags"/>.
/// </summary>
public sealed record DifferenceCatalogRow(int Id, double X, double Y, double RaDeg, double DecDeg, double Flux, double FluxError,
    double Snr, int Sign, double Fwhm, double Elongation, double PointLike, DifferenceSourceFlags Flags);

/// <summary>A column of the difference catalog: its name, unit (a <see cref="ProductUnits"/> value) and meaning.</summary>
public sealed record DifferenceCatalogColumn(string Name, string Unit, string Meaning);

/// <summary>
/// The difference catalog's columns, declared once: the writer writes exactly these (with TUNITn and a TCOMMn comment
/// each), the docs table is generated from them. MAG/MAGERR are AB magnitudes of |FLUX| through the science image's
/// zero point (ZPTMAG of DN/s), NaN when it has none.
/// </summary>
public static class DifferenceCatalog
{
    public const string ExtensionName = "SOURCES";

    public static readonly IReadOnlyList<DifferenceCatalogColumn> Columns =
    [
        new("ID", ProductUnits.Dimensionless, "row number, from 1"),
        new("X_IMAGE", ProductUnits.Pixel, "x on the science image, FITS 1-based (the first pixel's centre is 1.0)"),
        new("Y_IMAGE", ProductUnits.Pixel, "y on the science image, FITS 1-based"),
        new("RA", ProductUnits.Degree, "right ascension (ICRS) through the science image's TAN-SIP WCS"),
        new("DEC", ProductUnits.Degree, "declination (ICRS)"),
        new("FLUX", ProductUnits.Rate, "ZOGY's optimal flux alpha = S / F_S at the sub-pixel position, normalised to total flux on the science stars; science image's units; negative: fainter than in the reference"),
        new("FLUXERR", ProductUnits.Rate, "1-sigma of FLUX: sigma_alpha from every variance term of S there, with the normalisation's error"),
        new("MAG", ProductUnits.Magnitude, "AB magnitude of abs(FLUX): ZPTMAG - 2.5 log10 abs(FLUX); NaN without a zero point"),
        new("MAGERR", ProductUnits.Magnitude, "1-sigma of MAG: 1.0857 FLUXERR / abs(FLUX)"),
        new("SNR", ProductUnits.Dimensionless, "abs(S_corr) at the source's sub-pixel position (sigma)"),
        new("SIGN", ProductUnits.Dimensionless, "+1 brighter now than in the reference, -1 fainter"),
        new("FWHM", ProductUnits.Pixel, "full width at half maximum from the second moments of SIGN x D at the source"),
        new("ELONGATION", ProductUnits.Dimensionless, "major over minor axis of the same moments (1 for a round source)"),
        new("POINTLIKE", ProductUnits.Dimensionless, "FWHM over the FWHM of P_D: about 1 for a point source, larger when extended, smaller for a cosmic ray"),
        new("FLAGS", ProductUnits.Dimensionless, "bits of the FLAGS registry (FLAGBITn in the primary header)"),
    ];

    /// <param name="zeroPointMag">AB magnitude of 1 DN/s of the science image (null: MAG and MAGERR NaN).</param>
    public static FitsTable ToTable(IReadOnlyList<DifferenceCatalogRow> rows, double? zeroPointMag)
    {
        ArgumentNullException.ThrowIfNull(rows);
        static string? Unit(DifferenceCatalogColumn c) => c.Unit.Length == 0 ? null : c.Unit;
        double Mag(DifferenceCatalogRow r) => zeroPointMag is double zp && r.Flux != 0 ? zp - 2.5 * Math.Log10(Math.Abs(r.Flux)) : double.NaN;
        double MagErr(DifferenceCatalogRow r) => zeroPointMag is not null && r.Flux != 0 ? 2.5 / Math.Log(10) * r.FluxError / Math.Abs(r.Flux) : double.NaN;
        var values = new Dictionary<string, Action<FitsTable, DifferenceCatalogColumn>>
        {
            ["ID"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => r.Id).ToArray(), Unit(c)),
            ["X_IMAGE"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => r.X + 1).ToArray(), Unit(c)),
            ["Y_IMAGE"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => r.Y + 1).ToArray(), Unit(c)),
            ["RA"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => r.RaDeg).ToArray(), Unit(c)),
            ["DEC"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => r.DecDeg).ToArray(), Unit(c)),
            ["FLUX"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => r.Flux).ToArray(), Unit(c)),
            ["FLUXERR"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => r.FluxError).ToArray(), Unit(c)),
            ["MAG"] = (t, c) => t.AddColumn(c.Name, rows.Select(Mag).ToArray(), Unit(c)),
            ["MAGERR"] = (t, c) => t.AddColumn(c.Name, rows.Select(MagErr).ToArray(), Unit(c)),
            ["SNR"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => r.Snr).ToArray(), Unit(c)),
            ["SIGN"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => (short)r.Sign).ToArray(), Unit(c)),
            ["FWHM"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => r.Fwhm).ToArray(), Unit(c)),
            ["ELONGATION"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => r.Elongation).ToArray(), Unit(c)),
            ["POINTLIKE"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => r.PointLike).ToArray(), Unit(c)),
            ["FLAGS"] = (t, c) => t.AddColumn(c.Name, rows.Select(r => (int)r.Flags).ToArray(), Unit(c)),
        };
        var table = new FitsTable(ExtensionName);
        for (var i = 0; i < Columns.Count; i++)
        {
            var column = Columns[i];
            values[column.Name](table, column);
            table.Header.Set($"TCOMM{i + 1}", column.Meaning);
        }
        return table;
    }

    /// <summary>The columns as a Markdown table (docs/catalog.md is generated from it).</summary>
    public static string Markdown()
    {
        var sb = new StringBuilder("| column | unit | meaning |\n|---|---|---|\n");
        foreach (var c in Columns) sb.Append($"| `{c.Name}` | {(c.Unit.Length == 0 ? "-" : $"`{c.Unit}`")} | {c.Meaning} |\n");
        return sb.ToString();
    }
}
