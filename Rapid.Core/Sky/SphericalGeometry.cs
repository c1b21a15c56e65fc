namespace Rapid.Core.Sky;

/// <summary>Angles on the celestial sphere, in degrees.</summary>
public static class SphericalGeometry
{
    internal const double DegToRad = Math.PI / 180.0;
    internal const double RadToDeg = 180.0 / Math.PI;

    /// <summary>
    /// Great-circle separation of two points (degrees in, degrees out) by the Vincenty formula
    /// (the special case for a sphere, as astropy.coordinates.angular_separation): atan2 of the
    /// cross and dot products, so it is accurate at all angles, including sub-milliarcsecond
    /// separations where the arccos formula loses everything.
    /// </summary>
    public static double AngularSeparationDeg(double ra1, double dec1, double ra2, double dec2)
    {
        double dRa = (ra2 - ra1) * DegToRad;
        var (sinD1, cosD1) = Math.SinCos(dec1 * DegToRad);
        var (sinD2, cosD2) = Math.SinCos(dec2 * DegToRad);
        var (sinDRa, cosDRa) = Math.SinCos(dRa);

        double num1 = cosD2 * sinDRa;
        double num2 = cosD1 * sinD2 - sinD1 * cosD2 * cosDRa;
        double den = sinD1 * sinD2 + cosD1 * cosD2 * cosDRa;
        return Math.Atan2(Math.Sqrt(num1 * num1 + num2 * num2), den) * RadToDeg;
    }

    /// <summary>Wraps any RA (degrees) into [0, 360).</summary>
    public static double NormalizeRaDeg(double raDeg)
    {
        double r = raDeg % 360.0;
        if (r < 0) r += 360.0;
        // A tiny negative input rounds to exactly 360 after the addition.
        return r >= 360.0 ? 0.0 : r;
    }
}
