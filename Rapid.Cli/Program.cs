using Rapid.Cli.Commands;

using var signals = TerminationSignals.Install();
var code = await RapidCommandLine.InvokeAsync(args, signals.Token);
// Interrupted: the command has cleaned up (jobs closed, lease released); the exit code says which signal.
return signals.Received != 0 ? signals.ExitCode : code;
