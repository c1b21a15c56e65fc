using Dapper;
using Npgsql;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Functions.Tests.Support;

/// <summary>
/// One private PostgreSQL cluster for the whole test assembly, with a migrated template database;
/// each test class gets a fresh copy of the template (CREATE DATABASE ... TEMPLATE is fast).
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

    public string For(string database, bool pooling = true) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = database, Pooling = pooling }.ConnectionString;

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await Cluster.StopAsync(ClusterDir);
        try { Directory.Delete(Cluster.ClusterDirectory ?? ClusterDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class OpsDatabaseCollection : ICollectionFixture<OpsDatabaseFixture>
{
    public const string Name = "ops database";
}
