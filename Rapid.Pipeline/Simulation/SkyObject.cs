namespace Rapid.Pipeline.Simulation;

public enum SkyObjectType { Star, Galaxy, Transient, Variable }

/// <summary>
/// One simulated object of a field. <see cref="ReferenceMagnitudes"/> holds the AB magnitude per
/// filter name at light-curve factor 1 (for a transient: at peak; for a variable: its mean).
/// Galaxy shape: effective radius (arcsec, along the major axis), Sersic index, axis ratio and
/// position angle of the major axis (degrees east of north).
/// </summary>
public sealed record SkyObject(
    long Id, SkyObjectType Type, double RaDeg, double DecDeg,
    IReadOnlyDictionary<string, double> ReferenceMagnitudes, ILightCurve LightCurve,
    double EffectiveRadiusArcsec = 0, double SersicIndex = 0, double AxisRatio = 1, double PositionAngleDeg = 0,
    long HostId = 0)
{
    public bool IsExtended => Type == SkyObjectType.Galaxy;

    public static string TypeName(SkyObjectType type) => type switch
    {
        SkyObjectType.Star => "star",
        SkyObjectType.Galaxy => "galaxy",
        SkyObjectType.Transient => "transient",
        SkyObjectType.Variable => "variable",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>AB magnitude in a filter at a time; +∞ when the object emits nothing then (a transient before explosion).</summary>
    public double MagnitudeAt(string filter, double mjd)
    {
        var factor = LightCurve.FluxFactorAt(mjd);
        return factor > 0 ? ReferenceMagnitudes[filter] - 2.5 * Math.Log10(factor) : double.PositiveInfinity;
    }
}
