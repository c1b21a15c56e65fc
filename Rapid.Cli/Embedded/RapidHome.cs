using Npgsql;
using Rapid.Core.Storage;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Cli.Embedded;

/// <summary>
/// The embedded mode's working directory (default ./.rapid): the private PostgreSQL cluster
/// (pg/), the object store (store/, one sub-directory per bucket). A server given with --db or
/// RAPID_DB replaces the private cluster; the object store stays a directory.
/// </summary>
public sealed class RapidHome
{
    public RapidHome(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }
    public string ClusterDirectory => System.IO.Path.Combine(Path, "pg");
    public string StoreRoot => System.IO.Path.Combine(Path, "store");

    public DirectoryObjectStore OpenStore() => new(StoreRoot);

    /// <summary>
    /// The ops database, migrated: the server named by <paramref name="connectionString"/> (or
    /// RAPID_DB), else the private cluster, started on first use and reused afterwards. The given
    /// user migrates; the data source returned works as the operations role (no DDL), as the
    /// Lambdas do on AWS.
    /// </summary>
    public async Task<NpgsqlDataSource> OpenDatabaseAsync(string? connectionString, Action<string>? log = null, CancellationToken ct = default)
    {
        var owner = await ResolveConnectionStringAsync(connectionString, log, ct);
        await using (var migrating = OpsDb.Create(owner))
        {
            await OpsDb.CheckReachableAsync(migrating, ct);
            await new MigrationRunner(migrating, log).MigrateAsync(ct: ct);
        }
        return OpsDb.Create(OpsRoles.SwitchTo(owner, OpsRoles.Operations));
    }

    /// <summary>The given connection string, else RAPID_DB, else the private cluster's (started if needed).</summary>
    public async Task<string> ResolveConnectionStringAsync(string? connectionString, Action<string>? log = null, CancellationToken ct = default) =>
        connectionString
        ?? Environment.GetEnvironmentVariable(OpsDb.ConnectionVariable)
        ?? await new LocalPostgresCluster(log).EnsureStartedAsync(ClusterDirectory, ct);

    public Task StopDatabaseAsync(CancellationToken ct = default) =>
        Directory.Exists(ClusterDirectory) ? new LocalPostgresCluster().StopAsync(ClusterDirectory, ct) : Task.CompletedTask;
}
