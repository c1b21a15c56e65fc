using Rapid.Core.Storage;

namespace Rapid.Functions.Steps;

/// <summary>A point on the sky, degrees (ICRS).</summary>
public readonly record struct SkyPoint(double RaDeg, double DecDeg);

/// <summary>
/// SIP distortion coefficients (Shupe et al. 2005) as FITS keywords, e.g. A["A_0_2"] = value.
/// </summary>
public sealed record SipCoefficients(int AOrder, int BOrder, IReadOnlyDictionary<string, double> A, IReadOnlyDictionary<string, double> B);

/// <summary>The WCS of an L2 image: TAN or TAN-SIP with a CD matrix (deg/pixel); CRPIX 1-based FITS pixels.</summary>
public sealed record L2Wcs(
    string CType1, string CType2,
    double CrVal1, double CrVal2,
    double CrPix1, double CrPix2,
    double Cd11, double Cd12, double Cd21, double Cd22,
    SipCoefficients? Sip = null);

/// <summary>
/// One L2 (single-SCA) image to register: the exposure it belongs to (keyed on DATE-OBS), its file,
/// its WCS, and its centre and four corners (degrees), all read from the FITS header by the ingest.
/// </summary>
public sealed record L2FileRegistration
{
    /// <summary>DATE-OBS, UTC.</summary>
    public required DateTime DateObs { get; init; }
    public required double MjdObs { get; init; }
    /// <summary>Filter name as in <c>filters</c> (F184, H158, J129, K213, R062, Y106, Z087, W146).</summary>
    public required string Filter { get; init; }
    /// <summary>Seconds.</summary>
    public required double ExpTime { get; init; }
    public required int Sca { get; init; }
    /// <summary>RA_TARG/DEC_TARG of the exposure: the exposure's field is the tile containing it.</summary>
    public required SkyPoint Target { get; init; }
    public required ObjectRef File { get; init; }
    public required string Md5 { get; init; }
    public required int Naxis1 { get; init; }
    public required int Naxis2 { get; init; }
    public required L2Wcs Wcs { get; init; }
    /// <summary>Image centre: the image's field is the tile containing it.</summary>
    public required SkyPoint Center { get; init; }
    /// <summary>The four corners, in pixel order (1,1), (N1,1), (N1,N2), (1,N2).</summary>
    public required IReadOnlyList<SkyPoint> Corners { get; init; }
    public double? PaObsy { get; init; }
    public double? PaFpa { get; init; }
    public double? ZptMag { get; init; }
    public double? SkyMean { get; init; }
    public int InfoBits { get; init; }
}

/// <summary>What ingest did with one L2 file.</summary>
public sealed record L2FileRegistered(long Rid, long Expid, int Version, int Vbest, long Field, bool Inserted);
