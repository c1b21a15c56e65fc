using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Wcs;

namespace Rapid.Functions.Ingest;

/// <summary>
/// Reads what the ops database needs of an L2 file from its FITS header alone (the header blocks of the image's HDU, as
/// <see cref="FitsFile.ReadImageInfo(string)"/> finds it: primary, SCI or first image extension, INHERIT honoured; the pixels are
/// never decoded; a file shorter than its headers declare is refused): the exposure (observation time as <see cref="DetectorKeywords.ObservationMjd"/> reads it, FILTER,
/// EXPTIME, RA_TARG/DEC_TARG), the SCA, the WCS with SIP, and centre and corners computed through the WCS; the checksum
/// of a local file streams its bytes, an object's is the caller's. A missing or unusable keyword is an <see cref="InvalidDataException"/> naming the file and the keyword.
/// </summary>
public static class L2FileHeaderReader
{
    public static L2FileRegistration Read(string path, ObjectRef file) => Read(ReadImageOf(path), path, file, FileChecksum.Of(path).Md5);

    /// <summary>
    /// The registration of an L2 file from a seekable stream of its bytes (an S3 object read by ranged GETs:
    /// <see cref="ObjectRangeStream"/>), named <paramref name="name"/> in messages; only its header blocks are read.
    /// The checksum is the caller's: it needs every byte, which this reader never reads.
    /// </summary>
    public static L2FileRegistration Read(Stream stream, string name, ObjectRef file, string md5) =>
        Read(ReadImage(stream, name), name, file, md5);

    private static FileStream OpenFile(string path)
    {
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InvalidDataException($"{path}: cannot be opened ({e.Message})", e); }
    }

    private static FitsImageInfo ReadImageOf(string path)
    {
        using var stream = OpenFile(path);
        return ReadImage(stream, path);
    }

    /// <summary>The image HDU's header, after checking that the file holds every byte its headers declare.</summary>
    private static FitsImageInfo ReadImage(Stream stream, string path)
    {
        try
        {
            FitsFile.VerifyComplete(stream, path);
            return FitsFile.ReadImageInfo(stream, path);
        }
        catch (FitsFormatException e) { throw new InvalidDataException(e.Message, e); }
    }

    private static L2FileRegistration Read(FitsImageInfo image, string path, ObjectRef file, string md5)
    {
        var h = image.Header;
        TanSipWcs wcs;
        try { wcs = TanSipWcs.FromHeader(h, path); }
        catch (WcsException e) { throw new InvalidDataException(e.Message, e); }
        var (cd11, cd12, cd21, cd22) = wcs.Cd;
        var (w, hgt) = (image.Width, image.Height);
        var center = wcs.PixelToSky((w + 1) / 2.0, (hgt + 1) / 2.0);
        var corners = new[] { (1.0, 1.0), (w, 1.0), (w, (double)hgt), (1.0, (double)hgt) }
            .Select(c => wcs.PixelToSky(c.Item1, c.Item2)).Select(s => new SkyPoint(s.RaDeg, s.DecDeg)).ToList();
        double mjd, exptime;
        try
        {
            mjd = DetectorKeywords.ObservationMjd(h, path).Value;
            exptime = DetectorKeywords.Number(h, ["EXPTIME"], double.NaN, path, 0, minExclusive: true).Value;
        }
        catch (HeaderKeywordException e) { throw new InvalidDataException(e.Message, e); }
        if (double.IsNaN(exptime)) throw new InvalidDataException($"{path}: FITS keyword EXPTIME is missing");
        return new L2FileRegistration
        {
            // DATE-OBS as written when it is a plain date-time (the exposure's key); else the time the MJD names.
            DateObs = DateObsAsWritten(h) ?? DateTime.UnixEpoch.AddDays(mjd - 40587.0),
            MjdObs = mjd,
            Filter = Required(h.GetString("FILTER"), path, "FILTER").Trim(),
            ExpTime = exptime,
            Sca = (int)Required(h.GetLong("SCA_NUM"), path, "SCA_NUM"),
            Target = new SkyPoint(h.GetDouble("RA_TARG") ?? center.RaDeg, h.GetDouble("DEC_TARG") ?? center.DecDeg),
            File = file,
            Md5 = md5,
            Naxis1 = w,
            Naxis2 = hgt,
            Wcs = new L2Wcs(h.GetString("CTYPE1") ?? "RA---TAN", h.GetString("CTYPE2") ?? "DEC--TAN",
                wcs.CrvalRaDeg, wcs.CrvalDecDeg, wcs.Crpix1, wcs.Crpix2, cd11, cd12, cd21, cd22, Sip(h)),
            Center = new SkyPoint(center.RaDeg, center.DecDeg),
            Corners = corners,
            PaObsy = h.GetDouble("PA_OBSY"),
            PaFpa = h.GetDouble("PA_FPA"),
            ZptMag = h.GetDouble("ZPTMAG"),
            SkyMean = h.GetDouble("SKY_MEAN"),
        };
    }

    private static DateTime? DateObsAsWritten(FitsHeader h)
    {
        if (h.GetString("DATE-OBS") is not { Length: > 0 } date) return null;
        try { return ObservationWindow.ParseTime(date, "DATE-OBS"); }
        catch (FormatException) { return null; } // another ISO-8601 form: ObservationMjd read it (or the MJD stands alone)
    }

    private static SipCoefficients? Sip(FitsHeader h)
    {
        var aOrder = h.GetLong("A_ORDER");
        var bOrder = h.GetLong("B_ORDER");
        if (aOrder is null || bOrder is null) return null;
        Dictionary<string, double> Terms(string prefix) => h.Cards
            .Where(c => c.Key.StartsWith(prefix, StringComparison.Ordinal) && c.Key != $"{prefix}ORDER")
            .ToDictionary(c => c.Key, c => h.GetDouble(c.Key) ?? 0.0);
        return new SipCoefficients((int)aOrder, (int)bOrder, Terms("A_"), Terms("B_"));
    }

    private static T Required<T>(T? value, string path, string keyword) where T : struct =>
        value ?? throw new InvalidDataException($"{path}: FITS keyword {keyword} is missing");

    private static string Required(string? value, string path, string keyword) =>
        value ?? throw new InvalidDataException($"{path}: FITS keyword {keyword} is missing");
}
