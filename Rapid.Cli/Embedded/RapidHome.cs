using Npgsql;
using Rapid.Core.Storage;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Cli.Embedded;

/// <summary>
/// The embedded mode's working directory (default ./.rapid): the private PostgreSQL cluster
/// (pg/), the object store (store/, one sub-directory per bucket), the runs' scratch space (work/).
/// A server given with --db or RAPID_DB replaces the private cluster; the object store stays a directory.
/// Only the commands that make a home (demo, simulate --register, db migrate) create one: the others
/// stop on a home that does not exist, so a mistyped --home is named instead of silently starting a new,
/// empty cluster and reporting that there was nothing to do.
/// </summary>
public sealed class RapidHome
{
    /// <param name="create">Make the directory (and, on first use, the cluster) when missing.</param>
    public RapidHome(string path, bool create = true)
    {
        Path = System.IO.Path.GetFullPath(path);
        Creates = create;
        if (create) Directory.CreateDirectory(Path);
    }

    public string Path { get; }
    public bool Creates { get; }
    public string ClusterDirectory => System.IO.Path.Combine(Path, "pg");
    public string StoreRoot => System.IO.Path.Combine(Path, "store");
    public string WorkRoot => System.IO.Path.Combine(Path, "work");

    public DirectoryObjectStore OpenStore() => new(StoreRoot);

    /// <summary>Stops with one line naming the path when this home does not exist and may not be created.</summary>
    public RapidHome RequireExisting()
    {
        if (!Creates && !Directory.Exists(Path))
            throw new ArgumentException($"--home {Path} does not exist: check the path (rapid demo, rapid simulate --register and rapid db migrate make a home)");
        return this;
    }

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
    public async Task<string> ResolveConnectionStringAsync(string? connectionString, Action<string>? log = null, CancellationToken ct = default)
    {
        if ((connectionString ?? Environment.GetEnvironmentVariable(OpsDb.ConnectionVariable)) is { } given) return given;
        if (!Creates && !LocalPostgresCluster.Exists(ClusterDirectory))
            throw new ArgumentException($"--home {Path} has no embedded ops database ({ClusterDirectory} holds no cluster): check the path, " +
                                        $"give a server with --db, or make one with: rapid db migrate --home {Path}");
        return await new LocalPostgresCluster(log).EnsureStartedAsync(ClusterDirectory, ct);
    }

    public Task StopDatabaseAsync(CancellationToken ct = default) =>
        LocalPostgresCluster.Exists(ClusterDirectory) ? new LocalPostgresCluster().StopAsync(ClusterDirectory, ct)
        : throw new ArgumentException($"--home {Path} has no embedded ops database ({ClusterDirectory} holds no cluster): nothing to stop");
}
