using Rapid.Core.Jobs;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// Ends a job with a given exit code (see <see cref="ExitCodes"/>) and a one-line reason that names
/// the input and what is wrong; the runner writes both into the manifest.
/// </summary>
public sealed class JobFailedException(int exitCode, string reason, Exception? inner = null) : Exception(reason, inner)
{
    public int ExitCode { get; } = exitCode;

    public static JobFailedException InvalidInput(string reason, Exception? inner = null) => new(ExitCodes.InvalidInput, reason, inner);
}
