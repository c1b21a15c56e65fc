using System.Net.Sockets;
using Npgsql;
using Rapid.Cli.Commands;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Cli.Tests.Commands;

/// <summary>Which exit code each kind of failure gets: infrastructure is never "bad input", nor a full lock table "unreachable".</summary>
public sealed class CommandErrorsTests
{
    public static TheoryData<Exception, int, string> Failures => new()
    {
        // 13,000 L2 files in one transaction ran out of lock table; it was reported as "database unreachable".
        { new PostgresException("out of shared memory", "ERROR", "ERROR", "53200"), CommandErrors.Infrastructure, "out of shared memory (SQLSTATE 53200)" },
        { new PostgresException("could not extend file: No space left on device", "ERROR", "ERROR", "53100"), CommandErrors.Infrastructure, "No space left" },
        { new PostgresException("could not read block", "ERROR", "ERROR", "58030"), CommandErrors.Infrastructure, "58030" },
        { new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01"), CommandErrors.DatabaseUnavailable, "unreachable" },
        { new PostgresException("duplicate key value", "ERROR", "ERROR", "23505"), CommandErrors.Failed, "23505" },
        { new NpgsqlException("Exception while reading from stream", new IOException("Unable to read data from the transport connection")), CommandErrors.DatabaseUnavailable, "unreachable" },
        { new NpgsqlException("Failed to connect", new SocketException(111)), CommandErrors.DatabaseUnavailable, "unreachable" },
        { new IOException("No space left on device : '/x/y'", 28), CommandErrors.Infrastructure, "disk full" },
        { new InfrastructureException("initdb failed for /x: boom"), CommandErrors.Infrastructure, "initdb failed" },
        { new FormatException("procDate '2025-04-04' is not a date"), CommandErrors.BadInput, "procDate" },
        { new InvalidOperationException("Sequence contains no elements"), CommandErrors.Failed, "InvalidOperationException" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Each_failure_gets_its_exit_code_and_one_line(Exception e, int code, string named)
    {
        var (exit, message) = CommandErrors.Classify(e);

        Assert.Equal(code, exit);
        Assert.Contains(named, message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void A_full_lock_table_names_the_server_setting_to_raise()
    {
        var e = new PostgresException("out of shared memory", "ERROR", "ERROR", "53200", hint: "You might need to increase \"max_locks_per_transaction\".");

        Assert.Contains("max_locks_per_transaction", CommandErrors.Classify(e).Message);
    }
}
