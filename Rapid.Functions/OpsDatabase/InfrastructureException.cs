namespace Rapid.Functions.OpsDatabase;

/// <summary>
/// Something Rapid runs on failed, not its input: the embedded PostgreSQL's programs (initdb, pg_ctl), a
/// missing system package, the disk. The command line reports it as an infrastructure failure (its own exit
/// code), never as bad input.
/// </summary>
public sealed class InfrastructureException(string message, Exception? inner = null) : Exception(message, inner);
