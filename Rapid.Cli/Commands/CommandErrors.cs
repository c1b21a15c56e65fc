using System.Net.Sockets;
using Npgsql;
using Rapid.Core.Storage;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Cli.Commands;

/// <summary>
/// Turns an exception into the one-line error people see, and an exit code:
/// 2 = bad input (arguments, files, configs), 3 = the database is unreachable, 1 = anything else;
/// commands that run a pipeline job end with its exit code (<see cref="PipelineExitException"/>).
/// </summary>
internal static class CommandErrors
{
    public const int BadInput = 2;
    public const int DatabaseUnavailable = 3;
    public const int Failed = 1;

    public static async Task<int> Guard(bool verbose, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("rapid: cancelled");
            return 130;
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
        OpsDatabaseUnavailableException => (DatabaseUnavailable, Flatten(e)),
        NpgsqlException { InnerException: SocketException or TimeoutException } or SocketException =>
            (DatabaseUnavailable, $"the ops database is unreachable: {Flatten(e)}"),
        NpgsqlException n when n.IsTransient => (DatabaseUnavailable, $"the ops database is unreachable: {Flatten(e)}"),
        PostgresException p => (Failed, $"ops database error {p.SqlState}: {p.MessageText}"),
        FormatException or ArgumentException or InvalidDataException or ObjectNotFoundException or FileNotFoundException
            or DirectoryNotFoundException or InvalidOperationException => (BadInput, Flatten(e)),
        _ => (Failed, $"{e.GetType().Name}: {Flatten(e)}"),
    };

    private static string Flatten(Exception e) => e.Message.ReplaceLineEndings(" ").Trim();
}
