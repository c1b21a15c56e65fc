using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Simulation;

/// <summary>
/// The simulator's own (truth) sky-to-detector mapping: a gnomonic (TAN) projection with a CD matrix
/// and, optionally, SIP distortion polynomials (Shupe et al. 2005), exactly as the FITS header
/// written for the image describes it (FITS WCS paper II, Calabretta &amp; Greisen 2002, with the
/// default LONPOLE = 180°). Rendering uses it to place sources; the pipeline's TanSipWcs and astropy
/// read the header independently, and the tests compare them with this model.
/// Pixel coordinates are 1-based FITS pixels; angles in degrees.
/// </summary>
public sealed class SimulatedWcs
{
    /// <summary>Half the Roman SCA size (4088/2 px): SIP amplitudes are defined at this distance from the SCA centre.</summary>
    public const double ScaHalfSizePixels = 2044;

    /// <summary>
    /// Synthetic distortion of a Roman-like SCA: pixel displacement at the SCA edge (|u|,|v| = 2044 px) of each
    /// term u^p v^q, order 2 to 4, a few pixels in all. Roman's measured distortion is not public in a
    /// usable form here; the size (a few px of non-linear displacement across an SCA) is what matters.
    /// Keys are (p, q).
    /// </summary>
    private static readonly (int P, int Q, double A, double B)[] DistortionAtEdgePixels =
    [
        (2, 0, 1.10, 0.35), (1, 1, -0.70, 0.90), (0, 2, 0.40, -0.60),
        (3, 0, -0.55, 0.10), (2, 1, 0.25, -0.45), (1, 2, -0.35, 0.30), (0, 3, 0.15, -0.50),
        (4, 0, 0.12, -0.05), (3, 1, -0.08, 0.10), (2, 2, 0.06, 0.07), (1, 3, 0.04, -0.09), (0, 4, -0.10, 0.11),
    ];

    public double CrvalRaDeg { get; }
    public double CrvalDecDeg { get; }
    public double Crpix1 { get; }
    public double Crpix2 { get; }
    public double Cd11 { get; }
    public double Cd12 { get; }
    public double Cd21 { get; }
    public double Cd22 { get; }
    /// <summary>0 for plain TAN, else the SIP order (A_ORDER = B_ORDER).</summary>
    public int SipOrder { get; }
    private readonly double[,] _a;
    private readonly double[,] _b;

    private SimulatedWcs(double ra, double dec, double crpix1, double crpix2, double cd11, double cd12, double cd21, double cd22,
        int sipOrder, double[,] a, double[,] b)
    {
        (CrvalRaDeg, CrvalDecDeg, Crpix1, Crpix2, Cd11, Cd12, Cd21, Cd22, SipOrder, _a, _b) =
            (ra, dec, crpix1, crpix2, cd11, cd12, cd21, cd22, sipOrder, a, b);
    }

    /// <summary>
    /// A WCS whose reference pixel is the image centre at (raDeg, decDeg), with the image +y axis at
    /// position angle <paramref name="paDeg"/> (east of north) and east to the left at PA 0 (standard parity).
    /// </summary>
    /// <remarks>
    /// With <paramref name="sca"/> given, the distortion belongs to that SCA: its amplitude grows with the SCA's distance
    /// from the focal-plane centre (×0.5 at the centre to ×1.5 at the farthest SCA) and it is mirrored for SCAs left of
    /// centre (A_pq → (−1)^(p+1) A_pq, B_pq → (−1)^p B_pq), as field distortion is symmetric about the optical axis.
    /// </remarks>
    public static SimulatedWcs Create(double raDeg, double decDeg, double paDeg, double pixelScaleArcsec, int width, int height, bool sip, int? sca = null)
    {
        var amplitude = 1.0;
        var mirrored = false;
        if (sca is int n)
        {
            var (x, y) = RomanFocalPlane.ScaCentreArcmin(n);
            var farthest = Enumerable.Range(1, RomanFocalPlane.ScaCount).Select(RomanFocalPlane.ScaCentreArcmin).Max(c => Math.Sqrt(c.X * c.X + c.Y * c.Y));
            amplitude = 0.5 + Math.Sqrt(x * x + y * y) / farthest;
            mirrored = x < 0;
        }
        var s = pixelScaleArcsec / 3600.0;
        var pa = paDeg * Math.PI / 180;
        var (c, sn) = (Math.Cos(pa), Math.Sin(pa));
        var a = new double[5, 5];
        var b = new double[5, 5];
        if (sip)
            foreach (var (p, q, ea, eb) in DistortionAtEdgePixels)
            {
                var signA = mirrored && (p + 1) % 2 == 1 ? -1 : 1;
                var signB = mirrored && p % 2 == 1 ? -1 : 1;
                a[p, q] = signA * amplitude * ea / Math.Pow(ScaHalfSizePixels, p + q);
                b[p, q] = signB * amplitude * eb / Math.Pow(ScaHalfSizePixels, p + q);
            }
        return new SimulatedWcs(raDeg, decDeg, (width + 1) / 2.0, (height + 1) / 2.0,
            -s * c, s * sn, s * sn, s * c, sip ? 4 : 0, a, b);
    }

    public double PixelScaleArcsec => Math.Sqrt(Math.Abs(Cd11 * Cd22 - Cd12 * Cd21)) * 3600;

    /// <summary>SIP coefficient A_p_q or B_p_q (0 when absent).</summary>
    public double SipA(int p, int q) => _a[p, q];
    public double SipB(int p, int q) => _b[p, q];

    /// <summary>The header keywords of this WCS (FITS names and values), for writing into an image header.</summary>
    public IReadOnlyList<(string Key, object Value)> HeaderKeywords()
    {
        var sip = SipOrder > 0;
        var cards = new List<(string, object)>
        {
            ("WCSAXES", 2L),
            ("CTYPE1", sip ? "RA---TAN-SIP" : "RA---TAN"), ("CTYPE2", sip ? "DEC--TAN-SIP" : "DEC--TAN"),
            ("CUNIT1", "deg"), ("CUNIT2", "deg"),
            ("CRVAL1", CrvalRaDeg), ("CRVAL2", CrvalDecDeg), ("CRPIX1", Crpix1), ("CRPIX2", Crpix2),
            ("CD1_1", Cd11), ("CD1_2", Cd12), ("CD2_1", Cd21), ("CD2_2", Cd22),
            ("RADESYS", "ICRS"),
        };
        if (sip)
        {
            cards.Add(("A_ORDER", (long)SipOrder));
            for (var p = 0; p <= SipOrder; p++) for (var q = 0; p + q <= SipOrder; q++) if (_a[p, q] != 0) cards.Add(($"A_{p}_{q}", _a[p, q]));
            cards.Add(("B_ORDER", (long)SipOrder));
            for (var p = 0; p <= SipOrder; p++) for (var q = 0; p + q <= SipOrder; q++) if (_b[p, q] != 0) cards.Add(($"B_{p}_{q}", _b[p, q]));
        }
        return cards;
    }

    /// <summary>Writes (or replaces) the WCS keywords in a header.</summary>
    public void WriteTo(FitsHeader header)
    {
        foreach (var (key, value) in HeaderKeywords())
        {
            switch (value)
            {
                case string s: header.Set(key, s); break;
                case long l: header.Set(key, l); break;
                case double d: header.Set(key, d); break;
                default: throw new InvalidOperationException($"WCS keyword {key} has an unsupported type");
            }
        }
    }

    public (double RaDeg, double DecDeg) PixelToSky(double x, double y)
    {
        var u = x - Crpix1;
        var v = y - Crpix2;
        var (fu, fv) = Distort(u, v);
        var xi = (Cd11 * fu + Cd12 * fv) * Math.PI / 180;
        var eta = (Cd21 * fu + Cd22 * fv) * Math.PI / 180;
        return Deproject(CrvalRaDeg, CrvalDecDeg, xi, eta);
    }

    public (double X, double Y) SkyToPixel(double raDeg, double decDeg)
    {
        var (xi, eta) = Project(CrvalRaDeg, CrvalDecDeg, raDeg, decDeg);
        xi *= 180 / Math.PI;
        eta *= 180 / Math.PI;
        var det = Cd11 * Cd22 - Cd12 * Cd21;
        var tu = (Cd22 * xi - Cd12 * eta) / det;
        var tv = (-Cd21 * xi + Cd11 * eta) / det;
        var (u, v) = Undistort(tu, tv);
        return (u + Crpix1, v + Crpix2);
    }

    /// <summary>Gnomonic projection of (ra, dec) about (ra0, dec0): standard coordinates (ξ east, η north) in radians.</summary>
    public static (double Xi, double Eta) Project(double ra0Deg, double dec0Deg, double raDeg, double decDeg)
    {
        var d2r = Math.PI / 180;
        var (ra0, dec0, ra, dec) = (ra0Deg * d2r, dec0Deg * d2r, raDeg * d2r, decDeg * d2r);
        var dra = ra - ra0;
        var cosc = Math.Sin(dec0) * Math.Sin(dec) + Math.Cos(dec0) * Math.Cos(dec) * Math.Cos(dra);
        if (cosc <= 0) throw new ArgumentException($"sky position ({raDeg}, {decDeg}) is 90° or more from the projection centre ({ra0Deg}, {dec0Deg})");
        return (Math.Cos(dec) * Math.Sin(dra) / cosc,
                (Math.Cos(dec0) * Math.Sin(dec) - Math.Sin(dec0) * Math.Cos(dec) * Math.Cos(dra)) / cosc);
    }

    /// <summary>Inverse gnomonic projection: standard coordinates (radians) about (ra0, dec0) to (ra, dec) in degrees, RA in [0, 360).</summary>
    public static (double RaDeg, double DecDeg) Deproject(double ra0Deg, double dec0Deg, double xi, double eta)
    {
        var d2r = Math.PI / 180;
        var dec0 = dec0Deg * d2r;
        var den = Math.Cos(dec0) - eta * Math.Sin(dec0);
        var ra = ra0Deg + Math.Atan2(xi, den) / d2r;
        var dec = Math.Atan2(Math.Sin(dec0) + eta * Math.Cos(dec0), Math.Sqrt(xi * xi + den * den)) / d2r;
        ra %= 360;
        if (ra < 0) ra += 360;
        return (ra, dec);
    }

    private (double U, double V) Distort(double u, double v)
    {
        if (SipOrder == 0) return (u, v);
        double f = 0, g = 0;
        var up = 1.0;
        for (var p = 0; p <= SipOrder; p++)
        {
            var vq = 1.0;
            for (var q = 0; p + q <= SipOrder; q++)
            {
                f += _a[p, q] * up * vq;
                g += _b[p, q] * up * vq;
                vq *= v;
            }
            up *= u;
        }
        return (u + f, v + g);
    }

    /// <summary>Solves (u, v) + SIP(u, v) = (tu, tv) by Newton's method with a numerical Jacobian (converges to 1e-10 px).</summary>
    private (double U, double V) Undistort(double tu, double tv)
    {
        if (SipOrder == 0) return (tu, tv);
        double u = tu, v = tv;
        for (var iter = 0; iter < 50; iter++)
        {
            var (fu, fv) = Distort(u, v);
            var (ru, rv) = (fu - tu, fv - tv);
            if (Math.Abs(ru) < 1e-11 && Math.Abs(rv) < 1e-11) break;
            const double h = 1e-3;
            var (fuu, fvu) = Distort(u + h, v);
            var (fuv, fvv) = Distort(u, v + h);
            var j11 = (fuu - fu) / h; var j12 = (fuv - fu) / h;
            var j21 = (fvu - fv) / h; var j22 = (fvv - fv) / h;
            var det = j11 * j22 - j12 * j21;
            u -= (j22 * ru - j12 * rv) / det;
            v -= (-j21 * ru + j11 * rv) / det;
        }
        return (u, v);
    }
}
