using System.Globalization;
using Npgsql;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Cli.Bench;

/// <summary>
/// A database of its own for a benchmark, created next to the given one (never in the ops data), migrated, and dropped
/// when disposed unless kept.
/// </summary>
public sealed class ScratchDatabase : IAsyncDisposable
{
    private readonly string _adminConnectionString;

    private ScratchDatabase(string name, string adminConnectionString, string connectionString, NpgsqlDataSource dataSource) =>
        (Name, _adminConnectionString, ConnectionString, DataSource) = (name, adminConnectionString, connectionString, dataSource);

    public string Name { get; }
    public string ConnectionString { get; }
    public NpgsqlDataSource DataSource { get; }
    /// <summary>Leave the database in place when disposed (to look at it afterwards).</summary>
    public bool Keep { get; set; }

    public static async Task<ScratchDatabase> CreateAsync(string connectionString, string purpose, CancellationToken ct = default)
    {
        var name = $"rapid_bench_{purpose}_{DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)}";
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync(ct);
            // The name is generated here (letters, digits, underscore); CREATE DATABASE takes no parameters.
            await using var create = new NpgsqlCommand($"create database {name}", conn);
            try { await create.ExecuteNonQueryAsync(ct); }
            catch (PostgresException e)
            {
                throw new InvalidOperationException($"bench: cannot create scratch database {name} on {OpsDb.Describe(connectionString)}: {e.MessageText}", e);
            }
        }
        var cs = new NpgsqlConnectionStringBuilder(connectionString) { Database = name }.ConnectionString;
        var dataSource = OpsDb.Create(cs);
        await new MigrationRunner(dataSource).MigrateAsync(ct: ct);
        return new ScratchDatabase(name, admin, cs, dataSource);
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        if (Keep) return;
        await using var admin = new NpgsqlConnection(_adminConnectionString);
        await admin.OpenAsync(CancellationToken.None);
        await using var drop = new NpgsqlCommand($"drop database if exists {Name} with (force)", admin);
        await drop.ExecuteNonQueryAsync(CancellationToken.None);
    }
}
