using Rapid.Cli.Commands;
using Rapid.Core.Jobs;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Wcs;

namespace Rapid.Cli.Diff;

/// <summary>An input's header facts, read without its pixels. Wcs is null for maps and PSFs (they need none).</summary>
public sealed record DiffInputInfo(string Path, int Width, int Height, TanSipWcs? Wcs, double ExpTime, double MjdObs, string Filter);

/// <summary>
/// Checks the inputs of <c>rapid diff</c> from their headers before anything is staged, so a wrong file is
/// named by the path the user typed: exists, is FITS with an image, has a usable TAN/TAN-SIP WCS and,
/// for images in DN, EXPTIME &gt; 0. Pixel-level problems (all NaN, no overlap) are found by the job itself.
/// Every failure is exit 65 (invalid input) with a one-line message.
/// </summary>
public static class DiffInputCheck
{
    public static DiffInputInfo Check(string path, DiffInputRole role)
    {
        if (!File.Exists(path)) throw Invalid(path, "no such file");
        FitsImageInfo info;
        try
        {
            info = FitsFile.ReadImageInfo(path);
        }
        catch (FitsFormatException e) { throw Invalid(path, e.Problem); }
        catch (IOException e) { throw Invalid(path, $"cannot be read: {e.Message}"); }
        catch (UnauthorizedAccessException e) { throw Invalid(path, $"cannot be read: {e.Message}"); }

        if (role is DiffInputRole.ReferenceMap or DiffInputRole.Psf)
            return new DiffInputInfo(path, info.Width, info.Height, null, double.NaN, double.NaN, "");

        TanSipWcs wcs;
        try
        {
            wcs = TanSipWcs.FromHeader(info.Header, path);
        }
        catch (WcsException e) { throw Invalid(path, $"no usable WCS: {Problem(path, e.Message)}"); }
        catch (ArgumentException e) { throw Invalid(path, $"no usable WCS: {e.Message}"); }

        double expTime;
        try
        {
            expTime = info.Header.GetDouble("EXPTIME") ?? double.NaN;
        }
        catch (FormatException e) { throw Invalid(path, $"EXPTIME is not a number: {e.Message}"); }
        // Images in DN are turned into DN/s with EXPTIME; a reference image is already DN/s.
        if (role is DiffInputRole.Science or DiffInputRole.ReferenceInput && !(expTime > 0 && double.IsFinite(expTime)))
            throw Invalid(path, double.IsNaN(expTime) ? "EXPTIME is missing (needed to turn DN into DN/s)" : $"EXPTIME is {expTime} (must be > 0)");
        // Images in DN are observations: their time is required (MJD-OBS, DATE-OBS or a named alternative).
        var mjd = double.NaN;
        if (role is DiffInputRole.Science or DiffInputRole.ReferenceInput)
        {
            try { mjd = DetectorKeywords.ObservationMjd(info.Header, path).Value; }
            catch (HeaderKeywordException e) { throw Invalid(path, Problem(path, e.Message)); }
        }
        return new DiffInputInfo(path, info.Width, info.Height, wcs, expTime, mjd, info.Header.GetString("FILTER")?.Trim() ?? "");
    }

    // A WcsException message starts with the source it was given (the path): keep only the problem.
    private static string Problem(string path, string message) =>
        message.StartsWith(path + ": ", StringComparison.Ordinal) ? message[(path.Length + 2)..] : message;

    private static PipelineExitException Invalid(string path, string problem) => new(ExitCodes.InvalidInput, $"{path}: {problem}");
}
