using Rapid.Core.Contracts;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Wcs;

namespace Rapid.Functions.Api;

/// <summary>What an input of a diff is to the science job: the science image, a reference input, the reference image, a map, a PSF.</summary>
public enum DiffInputRole { Science, ReferenceInput, ReferenceImage, ReferenceMap, Psf }

/// <summary>An input's header facts, read without its pixels. Wcs is null for maps and PSFs (they need none).</summary>
/// <param name="Path">The input as the user named it (a path for <c>rapid diff</c> and <c>rapid serve</c>, an s3:// URI on AWS).</param>
public sealed record DiffInputInfo(string Path, int Width, int Height, TanSipWcs? Wcs, double ExpTime, double MjdObs, string Filter)
{
    /// <summary>The sky field (<see cref="SkyTessellation.Roman"/>) of the image's centre: the field a diff's job is filed under.</summary>
    public long CentreField()
    {
        // The WCS takes 1-based FITS pixels: the centre of an n-pixel axis is (n + 1) / 2.
        var (ra, dec) = (Wcs ?? throw new InvalidOperationException($"{Path} has no WCS")).PixelToSky((Width + 1) / 2.0, (Height + 1) / 2.0);
        return SkyTessellation.Roman.FieldOf(ra, dec);
    }

    /// <summary>This image as the science job's input <paramref name="file"/>, under <paramref name="rid"/> and <paramref name="field"/>.</summary>
    public L2Image AsL2Image(long rid, long field, ObjectRef file, ObjectRef? psf = null) => new()
    {
        Rid = rid, Field = field, Filter = Filter, MjdObs = MjdObs, ExpTime = ExpTime, File = file, Psf = psf,
    };
}

/// <summary>
/// The header checks of a diff's inputs, the same for a file (<c>rapid diff</c>, <c>rapid serve</c>) and an S3 object read by
/// ranged GETs (the AWS job API): an image with a usable TAN/TAN-SIP WCS and, for images in DN, EXPTIME &gt; 0, an observation
/// time and usable detector keywords (<see cref="DetectorKeywords"/>); maps and PSFs need only be images. Pixel-level problems
/// (all NaN, no overlap) are found by the job itself. A failure is an <see cref="InvalidDataException"/> whose message is the
/// problem alone (the caller names the input).
/// </summary>
public static class DiffInputHeaders
{
    public static DiffInputInfo Check(FitsImageInfo info, string name, DiffInputRole role)
    {
        if (role is DiffInputRole.ReferenceMap or DiffInputRole.Psf)
            return new DiffInputInfo(name, info.Width, info.Height, null, double.NaN, double.NaN, "");

        TanSipWcs wcs;
        try
        {
            wcs = TanSipWcs.FromHeader(info.Header, name);
        }
        catch (WcsException e) { throw new InvalidDataException($"no usable WCS: {Problem(name, e.Message)}"); }
        catch (ArgumentException e) { throw new InvalidDataException($"no usable WCS: {e.Message}"); }

        double expTime;
        try
        {
            expTime = info.Header.GetDouble("EXPTIME") ?? double.NaN;
        }
        catch (FormatException e) { throw new InvalidDataException($"EXPTIME is not a number: {e.Message}"); }
        // Images in DN are turned into DN/s with EXPTIME; a reference image is already DN/s.
        if (role is DiffInputRole.Science or DiffInputRole.ReferenceInput && !(expTime > 0 && double.IsFinite(expTime)))
            throw new InvalidDataException(double.IsNaN(expTime) ? "EXPTIME is missing (needed to turn DN into DN/s)" : $"EXPTIME is {expTime} (must be > 0)");
        // Images in DN are observations: their time is required (MJD-OBS, DATE-OBS or a named alternative).
        var mjd = double.NaN;
        if (role is DiffInputRole.Science or DiffInputRole.ReferenceInput)
        {
            try
            {
                mjd = DetectorKeywords.ObservationMjd(info.Header, name).Value;
                // A present but unusable gain, read noise or saturation level is named here, by the name the user gave
                // (the job would name its staged copy); absent ones take the settings' defaults in the job.
                DetectorKeywords.Number(info.Header, DetectorKeywords.Gain, 1, name, 0, minExclusive: true);
                DetectorKeywords.Number(info.Header, DetectorKeywords.ReadNoise, 0, name, 0);
                DetectorKeywords.Number(info.Header, DetectorKeywords.Saturation, 1, name, 0, minExclusive: true);
            }
            catch (HeaderKeywordException e) { throw new InvalidDataException(Problem(name, e.Message)); }
        }
        return new DiffInputInfo(name, info.Width, info.Height, wcs, expTime, mjd, info.Header.GetString("FILTER")?.Trim() ?? "");
    }

    // A WcsException or HeaderKeywordException message starts with the source it was given (the name): keep only the problem.
    private static string Problem(string name, string message) =>
        message.StartsWith(name + ": ", StringComparison.Ordinal) ? message[(name.Length + 2)..] : message;
}
