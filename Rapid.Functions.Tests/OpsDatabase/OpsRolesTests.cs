using Dapper;
using Npgsql;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.OpsDatabase;

/// <summary>
/// The roles the migrations make (V006__database_roles): the operations role reads and writes rows of
/// the ops tables and nothing else; the read-only role reads. Each test switches a connection of the
/// owner to the role (what embedded mode does; on AWS the role logs in with its own secret).
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class OpsRolesTests(OpsDatabaseFixture fixture)
{
    private async Task<NpgsqlConnection> ConnectAsAsync(string role)
    {
        var owner = await fixture.CreateDatabaseAsync("roles");
        var conn = new NpgsqlConnection(OpsRoles.SwitchTo(owner, role));
        await conn.OpenAsync();
        return conn;
    }

    [Fact]
    public async Task The_operations_role_writes_rows_but_changes_no_schema()
    {
        await using var conn = await ConnectAsAsync(OpsRoles.Operations);

        Assert.Equal(OpsRoles.Operations, await conn.QuerySingleAsync<string>("select current_user"));
        Assert.False(await conn.QuerySingleAsync<bool>("select rolsuper from pg_roles where rolname = current_user"));
        // A serial key: the sequence is usable too.
        await conn.ExecuteAsync("insert into swversions (cvstag) values ('1.0.0+roles-test')");
        Assert.Equal(1, await conn.ExecuteAsync("update swversions set cvstag = '1.0.0+roles-test-2' where cvstag = '1.0.0+roles-test'"));
        Assert.Equal(1, await conn.ExecuteAsync("delete from swversions where cvstag = '1.0.0+roles-test-2'"));
        await conn.ExecuteAsync("create temporary table scratch (x int)"); // session scratch, not schema

        foreach (var ddl in new[]
                 {
                     "create table intruder (x int)", "alter table jobs add column intruder int", "drop table jobs",
                     "create index intruder on jobs (status)", "truncate jobs",
                     "insert into schema_migrations (version, name, checksum) values (999, 'x', 'x')",
                 })
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteAsync(ddl));
            Assert.True(e.SqlState is PostgresErrorCodes.InsufficientPrivilege, $"{ddl}: {e.SqlState} {e.MessageText}");
        }
    }

    [Fact]
    public async Task The_read_only_role_reads_every_ops_table_and_writes_nothing()
    {
        await using var conn = await ConnectAsAsync(OpsRoles.ReadOnly);

        foreach (var table in await conn.QueryAsync<string>("select tablename from pg_tables where schemaname = 'public'"))
            await conn.ExecuteScalarAsync($"select count(*) from \"{table}\""); // names from the catalog
        var e = await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteAsync("insert into swversions (cvstag) values ('1.0.0+read-only')"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, e.SqlState);
    }

    [Fact]
    public async Task Enabling_the_login_sets_a_scram_password_and_refuses_another_user()
    {
        var owner = await fixture.CreateDatabaseAsync("login");
        await using var ds = OpsDb.Create(owner);

        await OpsRoles.EnableLoginAsync(ds, OpsRoles.Operations, "a password, with 'quotes' and $$dollars$$");

        await using var conn = await ds.OpenConnectionAsync();
        var (canLogin, verifier) = await conn.QuerySingleAsync<(bool, string)>("select rolcanlogin, rolpassword from pg_authid where rolname = @r", new { r = OpsRoles.Operations });
        Assert.True(canLogin);
        Assert.StartsWith("SCRAM-SHA-256$", verifier);
        await Assert.ThrowsAsync<InvalidDataException>(() => OpsRoles.EnableLoginAsync(ds, "rapid", "x"));
    }
}
