using Rapid.Cli.Commands;
using Rapid.Core.Jobs;
using Rapid.Functions.Api;
using Rapid.Pipeline.Fits;

namespace Rapid.Cli.Diff;

/// <summary>
/// Checks the inputs of <c>rapid diff</c> from their headers before anything is staged, so a wrong file is
/// named by the path the user typed: exists, is FITS with an image, and passes <see cref="DiffInputHeaders"/> (the checks
/// the AWS job API applies to a diff's S3 objects too). Every failure is exit 65 (invalid input) with a one-line message.
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
        try
        {
            return DiffInputHeaders.Check(info, path, role);
        }
        catch (InvalidDataException e) { throw Invalid(path, e.Message); }
    }

    private static PipelineExitException Invalid(string path, string problem) => new(ExitCodes.InvalidInput, $"{path}: {problem}");
}
