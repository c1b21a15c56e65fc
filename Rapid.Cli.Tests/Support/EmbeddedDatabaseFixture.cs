using Dapper;
using Npgsql;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Cli.Tests.Support;

/// <summary>One private PostgreSQL cluster for the test assembly; each test gets a fresh, migrated database.</summary>
public sealed class EmbeddedDatabaseFixture : IAsyncLifetime
{
    private int _counter;
    private string _admin = "";

    public string ClusterDir { get; } = Path.Combine(Path.GetTempPath(), $"rapid-cli-{Guid.NewGuid():N}"[..22]);
    public LocalPostgresCluster Cluster { get; } = new(durable: false);

    public async Task InitializeAsync() =>
        _admin = new NpgsqlConnectionStringBuilder(await Cluster.EnsureStartedAsync(ClusterDir)) { Database = "postgres", Pooling = false }.ConnectionString;

    /// <summary>A new empty database's connection string (the workflow migrates it as the CLI does).</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"cli{Interlocked.Increment(ref _counter)}";
        await using var conn = new NpgsqlConnection(_admin);
        await conn.ExecuteAsync($"create database {name}"); // a name we made: CREATE DATABASE takes no parameters
        return new NpgsqlConnectionStringBuilder(_admin) { Database = name, Pooling = true }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await Cluster.StopAsync(ClusterDir);
        File.Delete(ClusterDir + ".lock");
        try { Directory.Delete(Cluster.ClusterDirectory ?? ClusterDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class EmbeddedDatabaseCollection : ICollectionFixture<EmbeddedDatabaseFixture>
{
    public const string Name = "embedded ops database";
}
