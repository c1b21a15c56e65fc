using Dapper;
using Npgsql;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Functions.Tests.Support;

/// <summary>
/// One private PostgreSQL cluster for the whole test assembly, with a migrated template database.
/// Migration tests get fresh databases (CREATE DATABASE ... TEMPLATE); step tests share one migrated
/// database emptied before each test (all run in one collection, so one at a time): CREATE DATABASE
/// checkpoints and costs ~0.5-1 s here, emptying the tables a few milliseconds.
/// </summary>
public sealed class OpsDatabaseFixture : IAsyncLifetime
{
    private const string TemplateName = "rapid_template";
    private int _counter;

    public string ClusterDir { get; } = Path.Combine(Path.GetTempPath(), $"rapid-fn-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24]);
    public LocalPostgresCluster Cluster { get; } = new(durable: false);
    public string AdminConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var cs = await Cluster.EnsureStartedAsync(ClusterDir);
        AdminConnectionString = new NpgsqlConnectionStringBuilder(cs) { Database = "postgres", Pooling = false }.ConnectionString;
        await using (var conn = new NpgsqlConnection(AdminConnectionString))
        {
            await conn.ExecuteAsync($"create database {TemplateName}");
        }
        await using var ds = OpsDb.Create(For(TemplateName, pooling: false));
        await new MigrationRunner(ds).MigrateAsync();
    }

    /// <summary>A fresh, migrated database of its own; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? purpose = null, bool migrated = true)
    {
        var name = $"t{Interlocked.Increment(ref _counter)}_{(purpose ?? "db").ToLowerInvariant()}";
        await using var conn = new NpgsqlConnection(AdminConnectionString);
        // Names are ours (counter + a C# identifier); CREATE DATABASE takes no parameters.
        await conn.ExecuteAsync(migrated ? $"create database {name} template {TemplateName} strategy file_copy" : $"create database {name}");
        return For(name);
    }

    private const string SharedName = "rapid_steps";
    private bool _sharedCreated;

    /// <summary>The shared migrated database with every table emptied except the seeded ones.</summary>
    public async Task<string> EmptySharedDatabaseAsync()
    {
        if (!_sharedCreated)
        {
            await using var admin = new NpgsqlConnection(AdminConnectionString);
            await admin.ExecuteAsync($"create database {SharedName} template {TemplateName} strategy file_copy");
            _sharedCreated = true;
        }
        var cs = For(SharedName);
        await using var conn = new NpgsqlConnection(cs);
        await conn.ExecuteAsync("""
            delete from submissions;
            delete from qcmatches; delete from qcpatterns; delete from filederived; delete from fileused; delete from files;
            delete from attemptsteps; delete from jobstates; delete from jobattempts; delete from runs;
            delete from nightrecovery; delete from recoveryjobs; delete from jobwarnings;
            delete from supersededfiles; delete from jobproducts; delete from diffimmeta; delete from diffimages;
            delete from refimmeta; delete from refimcatalogs; delete from refimimages;
            update jobs set rfid = null; delete from refimages; delete from jobs;
            delete from l2filemeta; delete from l2pending; delete from l2files; delete from exposures; delete from fields; delete from swversions;
            delete from nightwindows; delete from runleases;
            """);
        return cs;
    }

    public string For(string database, bool pooling = true) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = database, Pooling = pooling }.ConnectionString;

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await Cluster.StopAsync(ClusterDir);
        File.Delete(ClusterDir + ".lock");
        try { Directory.Delete(Cluster.ClusterDirectory ?? ClusterDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class OpsDatabaseCollection : ICollectionFixture<OpsDatabaseFixture>
{
    public const string Name = "ops database";
}
