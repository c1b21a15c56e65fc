namespace Rapid.Core.Sky;

/// <summary>
/// One tile ("field") of the <see cref="SkyTessellation"/>. All angles in degrees (ICRS).
/// The tile covers RA in [RaMinDeg, RaMaxDeg) and Dec in [DecMinDeg, DecMaxDeg); the north cap also
/// contains Dec = +90 and the south cap Dec = -90. RaMinDeg is negative for the first tile of a band
/// (the tile centred on RA 0 straddles 0/360), as in the original SkyMap table. Polar caps report
/// RA 0..360 and centre (0, ±90).
/// </summary>
public sealed record SkyTile(
    long Field,
    double CenterRaDeg,
    double CenterDecDeg,
    double RaMinDeg,
    double RaMaxDeg,
    double DecMinDeg,
    double DecMaxDeg);
