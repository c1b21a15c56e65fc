using Rapid.Cli.Commands;

// Reasons of jobs a signal ends name the command that received it (rapid run, rapid watch, rapid serve).
using var signals = TerminationSignals.Install();
var code = await RapidCommandLine.InvokeAsync(args, signals.Token);
// Interrupted: the command has cleaned up (jobs closed, lease released); the exit code says which signal.
return signals.Received != 0 ? signals.ExitCode : code;
