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
