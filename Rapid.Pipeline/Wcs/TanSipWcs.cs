
namespace Rapid.Pipeline.Wcs;

/// <summary>
/// A celestial gnomonic (TAN) WCS with optional SIP distortion, as in FITS WCS paper II
/// (Calabretta &amp; Greisen 2002, A&amp;A 395, 1077) and the SIP convention (Shupe et al. 2005).
/// Pixels are 1-based FITS pixels (the centre of the first pixel is (1, 1)); angles are degrees (ICRS).
/// Pixel to sky: u = x - CRPIX1, v = y - CRPIX2; (u + A(u, v), v + B(u, v)) through the CD matrix gives the
/// intermediate world coordinates, which the TAN projection and the spherical rotation turn into (RA, Dec).
/// Sky to pixel: the inverse, where the SIP part starts from AP/BP when present and is then refined by
/// Newton iteration on A/B, so the result is the exact inverse of <see cref="PixelToSky"/> (as astropy's all_world2pix).
/// </summary>
public sealed partial class TanSipWcs
{
    private const double Deg = Math.PI / 180.0;
    private readonly double _cd11, _cd12, _cd21, _cd22;
    private readonly double _inv11, _inv12, _inv21, _inv22;
    private readonly double _sinDecP, _cosDecP;
    private readonly SipPolynomial? _a, _b, _ap, _bp;

    /// <summary>
    /// A WCS from its parameters. cd: the CD matrix in degrees per pixel. SIP arrays (optional) are indexed [p, q]
    /// for the coefficient of u^p v^q, square of size order + 1; a and b go together, so do ap and bp.
    /// </summary>
    public TanSipWcs(double crpix1, double crpix2, double crvalRaDeg, double crvalDecDeg, double cd11, double cd12, double cd21, double cd22,
        double[,]? a = null, double[,]? b = null, double[,]? ap = null, double[,]? bp = null, double lonPoleDeg = double.NaN)
    {
        foreach (var (name, value) in new[] { ("CRPIX1", crpix1), ("CRPIX2", crpix2), ("CRVAL1", crvalRaDeg), ("CRVAL2", crvalDecDeg), ("CD1_1", cd11), ("CD1_2", cd12), ("CD2_1", cd21), ("CD2_2", cd22) })
        {
            if (!double.IsFinite(value)) throw new ArgumentException($"WCS parameter {name} must be finite, not {value}");
        }
        if (crvalDecDeg is < -90 or > 90) throw new ArgumentException($"CRVAL2 (Dec) must be within [-90, 90], not {crvalDecDeg}");
        if ((a is null) != (b is null)) throw new ArgumentException("SIP A and B polynomials go together");
        if ((ap is null) != (bp is null)) throw new ArgumentException("SIP AP and BP polynomials go together");
        var det = cd11 * cd22 - cd12 * cd21;
        if (det == 0 || !double.IsFinite(1 / det)) throw new ArgumentException("the CD matrix is singular");

        Crpix1 = crpix1;
        Crpix2 = crpix2;
        CrvalRaDeg = crvalRaDeg;
        CrvalDecDeg = crvalDecDeg;
        (_cd11, _cd12, _cd21, _cd22) = (cd11, cd12, cd21, cd22);
        (_inv11, _inv12, _inv21, _inv22) = (cd22 / det, -cd12 / det, -cd21 / det, cd11 / det);
        // Paper II, section 2.5: for zenithal projections the default LONPOLE is 180 deg unless CRVAL2 = +90.
        LonPoleDeg = double.IsNaN(lonPoleDeg) ? (crvalDecDeg >= 90 ? 0.0 : 180.0) : lonPoleDeg;
        _sinDecP = Math.Sin(crvalDecDeg * Deg);
        _cosDecP = Math.Cos(crvalDecDeg * Deg);
        if (a is not null) { _a = new SipPolynomial(a); _b = new SipPolynomial(b!); }
        if (ap is not null) { _ap = new SipPolynomial(ap); _bp = new SipPolynomial(bp!); }
    }

    public double Crpix1 { get; }

    public double Crpix2 { get; }

    public double CrvalRaDeg { get; }

    public double CrvalDecDeg { get; }

    /// <summary>Native longitude of the celestial pole (LONPOLE), degrees.</summary>
    public double LonPoleDeg { get; }

    public bool HasSip => _a is not null;

    /// <summary>The CD matrix, degrees per pixel.</summary>
    public (double Cd11, double Cd12, double Cd21, double Cd22) Cd => (_cd11, _cd12, _cd21, _cd22);

    /// <summary>Mean pixel scale at CRPIX, sqrt(|det CD|), arcseconds per pixel (SIP not included).</summary>
    public double PixelScaleArcsec => Math.Sqrt(Math.Abs(_cd11 * _cd22 - _cd12 * _cd21)) * 3600.0;

    /// <summary>A distortion-free TAN WCS with north up and east left (RA increasing to -x), as for a stacked reference grid.</summary>
    public static TanSipWcs NorthUp(double crvalRaDeg, double crvalDecDeg, double crpix1, double crpix2, double pixelScaleArcsec)
    {
        if (!(pixelScaleArcsec > 0)) throw new ArgumentException($"the pixel scale must be positive, not {pixelScaleArcsec}");
        var s = pixelScaleArcsec / 3600.0;
        return new TanSipWcs(crpix1, crpix2, crvalRaDeg, crvalDecDeg, -s, 0, 0, s);
    }

    /// <summary>(RA, Dec) in degrees of the 1-based FITS pixel (x, y); RA in [0, 360).</summary>
    public (double RaDeg, double DecDeg) PixelToSky(double x, double y)
    {
        var u = x - Crpix1;
        var v = y - Crpix2;
        if (_a is not null)
        {
            var du = _a.Evaluate(u, v);
            var dv = _b!.Evaluate(u, v);
            u += du;
            v += dv;
        }
        var xi = _cd11 * u + _cd12 * v; // intermediate world coordinates, degrees
        var eta = _cd21 * u + _cd22 * v;
        return IntermediateToSky(xi, eta);
    }

    /// <summary>
    /// The 1-based FITS pixel of (RA, Dec) in degrees. (NaN, NaN) when the point is 90 deg or more from the
    /// tangent point (not on the projection) or the SIP inversion does not converge (far outside the distortion's range).
    /// </summary>
    public (double X, double Y) SkyToPixel(double raDeg, double decDeg)
    {
        var (xi, eta) = SkyToIntermediate(raDeg, decDeg);
        if (double.IsNaN(xi)) return (double.NaN, double.NaN);
        var bigU = _inv11 * xi + _inv12 * eta;
        var bigV = _inv21 * xi + _inv22 * eta;
        if (_a is null) return (bigU + Crpix1, bigV + Crpix2);

        // Start from AP/BP (or the undistorted position) and solve u + A(u, v) = U, v + B(u, v) = V by Newton.
        double u = bigU, v = bigV;
        if (_ap is not null)
        {
            u = bigU + _ap.Evaluate(bigU, bigV);
            v = bigV + _bp!.Evaluate(bigU, bigV);
        }
        for (var iteration = 0; iteration < 50; iteration++)
        {
            var (f, fu, fv) = _a.EvaluateWithDerivatives(u, v);
            var (g, gu, gv) = _b!.EvaluateWithDerivatives(u, v);
            var r1 = u + f - bigU;
            var r2 = v + g - bigV;
            var j11 = 1 + fu;
            var j22 = 1 + gv;
            var det = j11 * j22 - fv * gu;
            if (det == 0 || !double.IsFinite(det)) break;
            var stepU = (j22 * r1 - fv * r2) / det;
            var stepV = (j11 * r2 - gu * r1) / det;
            u -= stepU;
            v -= stepV;
            if (Math.Abs(stepU) + Math.Abs(stepV) < 1e-10) return (u + Crpix1, v + Crpix2);
        }
        return (double.NaN, double.NaN);
    }

    /// <summary>
    /// Intermediate world coordinates (xi, eta) in degrees to (RA, Dec): TAN deprojection (paper II, section 5.1.3)
    /// then the spherical rotation of paper II eq. 2. Written with sines and cosines of theta from R directly and
    /// Dec from atan2, so that pixel-sized offsets (1e-7 rad) keep full double precision (no asin/acos near 1).
    /// </summary>
    private (double RaDeg, double DecDeg) IntermediateToSky(double xi, double eta)
    {
        var rRad = Math.Sqrt(xi * xi + eta * eta) * Deg; // R in radians: tan(90 deg - theta) = R
        var norm = Math.Sqrt(1 + rRad * rRad);
        var sinTheta = 1 / norm;
        var cosTheta = rRad / norm;
        var phi = rRad == 0 ? 0.0 : Math.Atan2(xi, -eta);
        var dphi = phi - LonPoleDeg * Deg;
        var sinDphi = Math.Sin(dphi);
        var cosDphi = Math.Cos(dphi);
        var x = -cosTheta * sinDphi;                                   // cos(dec) sin(ra - ra0)
        var y = sinTheta * _cosDecP - cosTheta * _sinDecP * cosDphi;   // cos(dec) cos(ra - ra0)
        var z = sinTheta * _sinDecP + cosTheta * _cosDecP * cosDphi;   // sin(dec)
        var ra = CrvalRaDeg + Math.Atan2(x, y) / Deg;
        var dec = Math.Atan2(z, Math.Sqrt(x * x + y * y)) / Deg;
        return (NormalizeRa(ra), dec);
    }

    /// <summary>(RA, Dec) to intermediate world coordinates in degrees: paper II eq. 5, then TAN; (NaN, NaN) beyond the horizon.</summary>
    private (double Xi, double Eta) SkyToIntermediate(double raDeg, double decDeg)
    {
        var dra = (raDeg - CrvalRaDeg) * Deg;
        var dec = decDeg * Deg;
        var sinDec = Math.Sin(dec);
        var cosDec = Math.Cos(dec);
        var halfSin = Math.Sin(dra / 2);
        // Native direction cosines; b uses sin(dec - dec0) + ... (1 - cos dra) to avoid cancelling nearly equal terms.
        var a = -cosDec * Math.Sin(dra);
        var b = Math.Sin(dec - CrvalDecDeg * Deg) + cosDec * _sinDecP * 2 * halfSin * halfSin;
        var sinTheta = sinDec * _sinDecP + cosDec * _cosDecP * (1 - 2 * halfSin * halfSin);
        if (sinTheta <= 1e-12) return (double.NaN, double.NaN); // on or beyond the horizon of the tangent plane
        var cosTheta = Math.Sqrt(a * a + b * b);
        var r = cosTheta / sinTheta / Deg; // R = (180/pi) cot(theta), degrees
        if (cosTheta == 0) return (0, 0);
        var phi = LonPoleDeg * Deg + Math.Atan2(a, b);
        return (r * Math.Sin(phi), -r * Math.Cos(phi));
    }

    private static double NormalizeRa(double ra)
    {
        ra %= 360.0;
        if (ra < 0) ra += 360.0;
        return ra >= 360.0 ? 0.0 : ra;
    }
}
