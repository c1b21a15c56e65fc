namespace Rapid.Cli.Engine;

/// <summary>How one array child ended, as the local executor saw it (Batch's view of a child).</summary>
/// <param name="ExitCode">The process exit code; 128 + n when killed by signal n.</param>
/// <param name="Reason">Why it failed, when the executor knows more than the exit code (timeout, signal, start failure).</param>
public sealed record ChildOutcome(long Jid, int ArrayIndex, int ExitCode, string? Reason, TimeSpan Elapsed);
