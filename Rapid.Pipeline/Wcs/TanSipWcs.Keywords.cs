using System.Text.RegularExpressions;
using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Wcs;

/// <summary>Reading and writing the FITS keywords of a TAN / TAN-SIP WCS.</summary>
public sealed partial class TanSipWcs
{
    /// <summary>
    /// Reads CTYPEi (RA---TAN / DEC--TAN, optionally -SIP), CRPIXi, CRVALi, the CD matrix (CDi_j) or PCi_j with
    /// CDELTi (or CROTA2 with CDELTi), LONPOLE, and for SIP A_ORDER/B_ORDER with A_p_q/B_p_q and optional AP/BP.
    /// source names the header's origin (a file path) in <see cref="WcsException"/> messages.
    /// </summary>
    public static TanSipWcs FromHeader(FitsHeader header, string source)
    {
        ArgumentNullException.ThrowIfNull(header);
        var reader = new KeywordReader(header, source);
        var ctype1 = reader.String("CTYPE1");
        var ctype2 = reader.String("CTYPE2");
        var sip = ctype1 == "RA---TAN-SIP";
        if (ctype1 is not ("RA---TAN" or "RA---TAN-SIP"))
            throw new WcsException(source, "CTYPE1", $"= '{ctype1}' is not supported (only RA---TAN and RA---TAN-SIP)");
        if (ctype2 != (sip ? "DEC--TAN-SIP" : "DEC--TAN"))
            throw new WcsException(source, "CTYPE2", $"= '{ctype2}' does not match CTYPE1 = '{ctype1}' (expected {(sip ? "DEC--TAN-SIP" : "DEC--TAN")})");
        foreach (var unit in new[] { "CUNIT1", "CUNIT2" })
        {
            var u = header.GetString(unit)?.Trim();
            if (u is not null && u != "deg") throw new WcsException(source, unit, $"= '{u}' is not supported (only deg)");
        }

        var crpix1 = reader.Number("CRPIX1");
        var crpix2 = reader.Number("CRPIX2");
        var crval1 = reader.Number("CRVAL1");
        var crval2 = reader.Number("CRVAL2");
        if (crval2 is < -90 or > 90) throw new WcsException(source, "CRVAL2", $"= {crval2} is not a declination within [-90, 90]");

        double cd11, cd12, cd21, cd22;
        string matrixKeyword;
        if (new[] { "CD1_1", "CD1_2", "CD2_1", "CD2_2" }.Any(header.Contains))
        {
            // Paper I: CDi_j that are absent default to 0 when any is present.
            cd11 = reader.Number("CD1_1", 0);
            cd12 = reader.Number("CD1_2", 0);
            cd21 = reader.Number("CD2_1", 0);
            cd22 = reader.Number("CD2_2", 0);
            matrixKeyword = "CD1_1";
        }
        else
        {
            var cdelt1 = reader.Number("CDELT1");
            var cdelt2 = reader.Number("CDELT2");
            if (!new[] { "PC1_1", "PC1_2", "PC2_1", "PC2_2" }.Any(header.Contains) && header.Contains("CROTA2"))
            {
                // The older AIPS convention (paper II, section 6.1).
                var rho = reader.Number("CROTA2") * Deg;
                (cd11, cd12, cd21, cd22) = (cdelt1 * Math.Cos(rho), -cdelt2 * Math.Sin(rho), cdelt1 * Math.Sin(rho), cdelt2 * Math.Cos(rho));
            }
            else
            {
                cd11 = cdelt1 * reader.Number("PC1_1", 1);
                cd12 = cdelt1 * reader.Number("PC1_2", 0);
                cd21 = cdelt2 * reader.Number("PC2_1", 0);
                cd22 = cdelt2 * reader.Number("PC2_2", 1);
            }
            matrixKeyword = "CDELT1";
        }
        if (cd11 * cd22 - cd12 * cd21 == 0)
            throw new WcsException(source, matrixKeyword, "and the other matrix keywords make a singular CD matrix");

        double[,]? a = null, b = null, ap = null, bp = null;
        if (sip)
        {
            a = reader.Sip("A", required: true)!;
            b = reader.Sip("B", required: true)!;
            ap = reader.Sip("AP", required: false);
            bp = reader.Sip("BP", required: false);
            if ((ap is null) != (bp is null))
                throw new WcsException(source, ap is null ? "AP_ORDER" : "BP_ORDER", "is missing (AP and BP go together)");
        }
        var lonPole = header.Contains("LONPOLE") ? reader.Number("LONPOLE") : double.NaN;
        return new TanSipWcs(crpix1, crpix2, crval1, crval2, cd11, cd12, cd21, cd22, a, b, ap, bp, lonPole);
    }

    /// <summary>Writes this WCS into a header, replacing any WCS keywords (CD/PC/CDELT/CROTA, SIP) already there.</summary>
    public void WriteTo(FitsHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        foreach (var key in header.Cards.Select(c => c.Key).Where(k => WcsKeyword().IsMatch(k)).Distinct().ToList()) header.Remove(key);
        var sip = _a is not null;
        header.Set("CTYPE1", sip ? "RA---TAN-SIP" : "RA---TAN", "gnomonic projection" + (sip ? " with SIP distortion" : ""));
        header.Set("CTYPE2", sip ? "DEC--TAN-SIP" : "DEC--TAN", "gnomonic projection" + (sip ? " with SIP distortion" : ""));
        header.Set("CUNIT1", "deg");
        header.Set("CUNIT2", "deg");
        header.Set("CRPIX1", Crpix1, "reference pixel x (1-based)");
        header.Set("CRPIX2", Crpix2, "reference pixel y (1-based)");
        header.Set("CRVAL1", CrvalRaDeg, "RA at the reference pixel (deg)");
        header.Set("CRVAL2", CrvalDecDeg, "Dec at the reference pixel (deg)");
        header.Set("CD1_1", _cd11, "deg/pixel");
        header.Set("CD1_2", _cd12, "deg/pixel");
        header.Set("CD2_1", _cd21, "deg/pixel");
        header.Set("CD2_2", _cd22, "deg/pixel");
        var defaultLonPole = CrvalDecDeg >= 90 ? 0.0 : 180.0;
        if (LonPoleDeg != defaultLonPole) header.Set("LONPOLE", LonPoleDeg, "native longitude of the celestial pole (deg)");
        if (!header.Contains("RADESYS")) header.Set("RADESYS", "ICRS");
        if (_a is not null) { WriteSip(header, "A", _a); WriteSip(header, "B", _b!); }
        if (_ap is not null) { WriteSip(header, "AP", _ap); WriteSip(header, "BP", _bp!); }
    }

    private static void WriteSip(FitsHeader header, string name, SipPolynomial poly)
    {
        header.Set($"{name}_ORDER", (long)poly.Order, $"SIP polynomial order ({name})");
        for (var p = 0; p <= poly.Order; p++)
        {
            for (var q = 0; q <= poly.Order - p; q++)
            {
                if (poly[p, q] != 0) header.Set($"{name}_{p}_{q}", poly[p, q]);
            }
        }
    }

    [GeneratedRegex(@"^((CTYPE|CRPIX|CRVAL|CUNIT|CDELT|CROTA)[12]|(CD|PC)[12]_[12]|(A|B|AP|BP)_(ORDER|DMAX|\d+_\d+)|LONPOLE|LATPOLE|WCSAXES)$")]
    private static partial Regex WcsKeyword();

    /// <summary>Typed keyword access that turns every problem into a <see cref="WcsException"/> naming the keyword.</summary>
    private sealed class KeywordReader(FitsHeader header, string source)
    {
        public string String(string key) =>
            header.GetString(key)?.Trim() is { Length: > 0 } s ? s : throw new WcsException(source, key, "is missing");

        public double Number(string key, double? fallback = null)
        {
            double? value;
            try
            {
                value = header.GetDouble(key);
            }
            catch (FormatException)
            {
                throw new WcsException(source, key, $"= {header.Cards.First(c => c.Key == key).Value} is not a number");
            }
            if (value is null)
                return fallback ?? throw new WcsException(source, key, "is missing");
            if (!double.IsFinite(value.Value)) throw new WcsException(source, key, $"= {value} is not finite");
            return value.Value;
        }

        public double[,]? Sip(string name, bool required)
        {
            var orderKey = $"{name}_ORDER";
            if (!header.Contains(orderKey))
                return required ? throw new WcsException(source, orderKey, "is missing (CTYPE says -SIP)") : null;
            var order = Number(orderKey);
            if (order != Math.Floor(order) || order is < 0 or > 9)
                throw new WcsException(source, orderKey, $"= {order} is not an order between 0 and 9");
            var n = (int)order;
            var c = new double[n + 1, n + 1];
            for (var p = 0; p <= n; p++)
                for (var q = 0; q <= n - p; q++)
                    c[p, q] = Number($"{name}_{p}_{q}", 0);
            return c;
        }
    }
}
