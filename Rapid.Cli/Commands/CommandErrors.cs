using System.Net.Sockets;
using Npgsql;
using Rapid.Core.Storage;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Cli.Commands;

/// <summary>
/// The exit codes of the <c>rapid</c> commands, and the one-line error people see. Commands that run a
/// pipeline job (rapid diff) end with its exit code instead (<see cref="PipelineExitException"/>: 32, 33, 65...).
/// </summary>
internal static class CommandErrors
{
    /// <summary>An unexpected failure (a defect, or a cause none of the others names).</summary>
    public const int Failed = 1;
    /// <summary>Bad input: options (parse errors too), files, configs, a --home that does not exist.</summary>
    public const int BadInput = 2;
    /// <summary>The ops database cannot be reached (down, refused, stopped mid-command).</summary>
    public const int DatabaseUnavailable = 3;
    /// <summary>What Rapid runs on failed: the embedded PostgreSQL's programs (initdb, pg_ctl), the disk (full), the database server's resources.</summary>
    public const int Infrastructure = 4;
    /// <summary><c>rapid run</c>/<c>demo</c> ran to the end, but jobs of the run ended in error (listed in the summary).</summary>
    public const int JobsFailed = 5;
    /// <summary>Another run holds the processing date; nothing was changed.</summary>
    public const int RunInProgress = 6;
    /// <summary>Interrupted by SIGINT (SIGTERM: 143): 128 + the signal (<see cref="TerminationSignals"/>).</summary>
    public const int Interrupted = 130;

    public static async Task<int> Guard(bool verbose, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"rapid: stopped: {TerminationSignals.Reason}");
            return TerminationSignals.Current is { Received: not 0 } s ? s.ExitCode : Interrupted;
        }
        catch (Exception e)
        {
            var (code, message) = Classify(e);
            Console.Error.WriteLine($"rapid: {message}");
            if (verbose) Console.Error.WriteLine(e);
            return code;
        }
    }

    public static (int Code, string Message) Classify(Exception e) => e switch
    {
        PipelineExitException p => (p.ExitCode, Flatten(e)),
        RunInProgressException => (RunInProgress, Flatten(e)),
        OpsDatabaseUnavailableException => (DatabaseUnavailable, Flatten(e)),
        InfrastructureException => (Infrastructure, Flatten(e)),
        // The server is up but out of a resource (disk, memory, shared lock table, connections) or failed itself.
        PostgresException p when p.SqlState.StartsWith("53", StringComparison.Ordinal) || p.SqlState.StartsWith("58", StringComparison.Ordinal) =>
            (Infrastructure, $"the ops database server failed: {p.MessageText} (SQLSTATE {p.SqlState}){(p.Hint is { } h ? $"; {h}" : "")}"),
        // Shutting down or restarting (57P01-57P03): as unreachable as a refused connection.
        PostgresException p when p.SqlState.StartsWith("57P", StringComparison.Ordinal) =>
            (DatabaseUnavailable, $"the ops database is unreachable: {p.MessageText} (SQLSTATE {p.SqlState})"),
        PostgresException p => (Failed, $"ops database error {p.SqlState}: {p.MessageText}"),
        NpgsqlException { InnerException: SocketException or TimeoutException or IOException } or SocketException =>
            (DatabaseUnavailable, $"the ops database is unreachable: {Flatten(e)}"),
        NpgsqlException n when n.IsTransient => (DatabaseUnavailable, $"the ops database is unreachable: {Flatten(e)}"),
        IOException io when IsDiskFull(io) => (Infrastructure, $"disk full: {Flatten(e)}"),
        FormatException or ArgumentException or InvalidDataException or ObjectNotFoundException or FileNotFoundException
            or DirectoryNotFoundException => (BadInput, Flatten(e)),
        _ => (Failed, $"{e.GetType().Name}: {Flatten(e)}"),
    };

    /// <summary>ENOSPC (28) or EDQUOT (122): .NET keeps the errno as the HResult of the IOException it raises on Unix.</summary>
    public static bool IsDiskFull(IOException e) => e.HResult is 28 or 122 || e.Message.Contains("No space left on device", StringComparison.Ordinal);

    private static string Flatten(Exception e) => e.Message.ReplaceLineEndings(" ").Trim();
}
