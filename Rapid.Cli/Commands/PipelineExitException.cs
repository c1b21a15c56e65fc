namespace Rapid.Cli.Commands;

/// <summary>
/// Ends a command with a pipeline exit code (see Rapid.Core.Jobs.ExitCodes: 33 no reference possible,
/// 65 invalid input, ...) and a one-line message naming the file and the problem.
/// </summary>
internal sealed class PipelineExitException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
