using Dapper;
using Npgsql;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.OpsDatabase;

[Collection(OpsDatabaseCollection.Name)]
public sealed class LocalPostgresClusterTests(OpsDatabaseFixture db)
{
    [Fact]
    public async Task A_running_cluster_is_reused_and_serves_the_ops_database_over_a_socket_only()
    {
        var cs = await new LocalPostgresCluster().EnsureStartedAsync(db.ClusterDir);
        var b = new NpgsqlConnectionStringBuilder(cs);
        Assert.StartsWith("/", b.Host);
        Assert.Null(b.Password);
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        Assert.Equal(LocalPostgresCluster.DatabaseName, await conn.ExecuteScalarAsync<string>("select current_database()"));
        Assert.Equal("", await conn.ExecuteScalarAsync<string>("show listen_addresses"));
        Assert.Equal("UTF8", await conn.ExecuteScalarAsync<string>("show server_encoding"));
    }

    [Fact]
    public async Task Commands_that_start_a_stopped_cluster_at_once_all_get_it_one_initdb_and_one_start()
    {
        // Two `rapid run` on a stopped (here: not yet made) cluster both ran initdb or pg_ctl start; one failed.
        var dataDir = Path.Combine(Path.GetTempPath(), $"rapid-fn-race-{Guid.NewGuid():N}"[..26]);
        var logs = new System.Collections.Concurrent.ConcurrentBag<string>();
        try
        {
            var started = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
                new LocalPostgresCluster(logs.Add, durable: false).EnsureStartedAsync(dataDir))));
            Assert.Single(started.Distinct());
            Assert.Single(logs, l => l.StartsWith("initialised", StringComparison.Ordinal));
            Assert.Single(logs, l => l.StartsWith("started", StringComparison.Ordinal));

            // Stopped again, then started by several at once.
            NpgsqlConnection.ClearAllPools();
            await new LocalPostgresCluster(durable: false).StopAsync(dataDir);
            logs.Clear();
            await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => new LocalPostgresCluster(logs.Add, durable: false).EnsureStartedAsync(dataDir))));
            Assert.Single(logs, l => l.StartsWith("started", StringComparison.Ordinal));
            await using var conn = new NpgsqlConnection(started[0]);
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select 1"));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await new LocalPostgresCluster().StopAsync(dataDir);
            Directory.Delete(dataDir, recursive: true);
            File.Delete(dataDir + ".lock");
        }
    }

    [Fact]
    public async Task As_root_a_data_dir_the_postgres_user_cannot_reach_is_relocated_behind_a_symlink()
    {
        if (OperatingSystem.IsWindows() || !string.Equals(Environment.UserName, "root", StringComparison.Ordinal)) return; // only root runs the server as 'postgres'
        var home = Directory.CreateTempSubdirectory("rapid-fn-private-");
        File.SetUnixFileMode(home.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // like /root
        var dataDir = Path.Combine(home.FullName, ".rapid", "db");
        var logs = new List<string>();
        var cluster = new LocalPostgresCluster(logs.Add, durable: false);
        try
        {
            var cs = await cluster.EnsureStartedAsync(dataDir);
            Assert.StartsWith("/var/lib/rapid/clusters/", cluster.ClusterDirectory);
            Assert.Equal(cluster.ClusterDirectory, new DirectoryInfo(dataDir).LinkTarget);
            Assert.Contains(logs, l => l.Contains("links to it"));
            await using (var conn = new NpgsqlConnection(cs))
                Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select 1"));
            // The next run finds it through the symlink.
            Assert.Equal(cs, await new LocalPostgresCluster(durable: false).EnsureStartedAsync(dataDir));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await cluster.StopAsync(dataDir);
            if (cluster.ClusterDirectory is { } dir && dir.StartsWith("/var/lib/rapid/clusters/", StringComparison.Ordinal)) Directory.Delete(dir, true);
            home.Delete(true);
        }
    }

    [Fact]
    public async Task An_unreachable_server_is_one_line_naming_it_without_a_password()
    {
        var cs = new NpgsqlConnectionStringBuilder
        {
            Host = Path.Combine(Path.GetTempPath(), "no-such-socket-dir"), Database = "rapidopsdb", Username = "ops", Password = "s3cret", Timeout = 2,
        }.ConnectionString;
        await using var ds = OpsDb.Create(cs);
        var e = await Assert.ThrowsAsync<OpsDatabaseUnavailableException>(() => OpsDb.CheckReachableAsync(ds));
        Assert.Contains("is not reachable", e.Message);
        Assert.Contains("rapidopsdb", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
