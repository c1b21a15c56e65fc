using System.Net.Sockets;
using Npgsql;

namespace Rapid.Functions.OpsDatabase;

/// <summary>Opens the operations database: one <see cref="NpgsqlDataSource"/> per process.</summary>
public static class OpsDb
{
    /// <summary>The environment variable naming a server (as <c>--db</c> does).</summary>
    public const string ConnectionVariable = "RAPID_DB";

    public static NpgsqlDataSource Create(string connectionString)
    {
        NpgsqlConnectionStringBuilder csb;
        try { csb = new NpgsqlConnectionStringBuilder(connectionString); }
        catch (ArgumentException e) { throw new ArgumentException($"database connection string is not valid: {e.Message}", e); }
        // Registration and planning send the same few statements thousands of times a night: letting
        // Npgsql prepare them (unless the caller chose otherwise) halves the cost of registering 2069
        // manifests. Behind RDS Proxy this pins a Lambda's session to one connection, which is harmless.
        if (csb.MaxAutoPrepare == 0)
        {
            csb.MaxAutoPrepare = 64;
            csb.AutoPrepareMinUsages = 2;
        }
        var builder = new NpgsqlDataSourceBuilder(csb.ConnectionString);
        return builder.Build();
    }

    /// <summary>Opens one connection to check the server; failures become one line naming the server.</summary>
    public static async Task CheckReachableAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            throw new OpsDatabaseUnavailableException(
                $"ops database {Describe(dataSource.ConnectionString)} is not reachable: {Innermost(e).Message.TrimEnd('.')}", e);
        }
    }

    /// <summary>host/port/database/user of a connection string, never its password (for logs and errors).</summary>
    public static string Describe(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{b.Username}@{b.Host}:{b.Port}/{b.Database}";
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}

public sealed class OpsDatabaseUnavailableException(string message, Exception inner) : Exception(message, inner);
