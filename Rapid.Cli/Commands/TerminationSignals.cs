using System.Runtime.InteropServices;

namespace Rapid.Cli.Commands;

/// <summary>
/// SIGINT and SIGTERM end a command cleanly: the first one cancels the command's token (a run then kills its
/// jobs, closes them with the signal as reason and releases its lease) and the process exits with 128 + the
/// signal (130, 143); a second one terminates at once. One per process, as signals are.
/// </summary>
public sealed class TerminationSignals : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _received;

    private TerminationSignals()
    {
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, On), PosixSignalRegistration.Create(PosixSignal.SIGTERM, On)];
    }

    /// <summary>The handler of this process, when <see cref="Install"/> was called (not in tests that invoke commands in process).</summary>
    public static TerminationSignals? Current { get; private set; }

    public static TerminationSignals Install() => Current = new TerminationSignals();

    /// <summary>The command this process runs (<c>run</c>, <c>watch</c>, <c>bench prompt</c>, ...), as parsed: reasons name it.</summary>
    public string Command { get; set; } = "";

    public CancellationToken Token => _cancel.Token;

    /// <summary>The signal number received first (2 SIGINT, 15 SIGTERM), 0 when none.</summary>
    public int Received => Volatile.Read(ref _received);

    /// <summary>The process exit code after a signal: 128 + its number, as shells report a process a signal ended.</summary>
    public int ExitCode => 128 + (Received == 0 ? SigInt : Received);

    /// <summary>The reason jobs killed because of it are closed with.</summary>
    public static string Reason => Current is { Received: not 0 } s ? $"rapid {s.Command} received {Name(s.Received)}" : "the run was cancelled";

    private const int SigInt = 2, SigTerm = 15;

    private void On(PosixSignalContext context)
    {
        var number = context.Signal == PosixSignal.SIGTERM ? SigTerm : SigInt;
        if (Interlocked.CompareExchange(ref _received, number, 0) != 0) return; // a second signal: the default action, termination
        context.Cancel = true;
        Console.Error.WriteLine($"rapid: {Name(number)} received: stopping (running jobs are killed and closed with the reason; a second signal exits at once)");
        _cancel.Cancel();
    }

    private static string Name(int signal) => signal == SigTerm ? "SIGTERM" : "SIGINT";

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cancel.Dispose();
        if (Current == this) Current = null;
    }
}
