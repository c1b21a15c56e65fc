using Dapper;
using Npgsql;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.OpsDatabase;

[Collection(OpsDatabaseCollection.Name)]
public sealed class MigrationRunnerTests(OpsDatabaseFixture db)
{
    [Fact]
    public async Task Migrates_an_empty_database_and_a_rerun_applies_nothing()
    {
        await using var ds = OpsDb.Create(await db.CreateDatabaseAsync("empty", migrated: false));
        var runner = new MigrationRunner(ds);
        var first = await runner.MigrateAsync();
        Assert.Equal(MigrationRunner.Embedded().Select(m => m.Version), first);
        Assert.Empty(await runner.MigrateAsync());

        await using var conn = await ds.OpenConnectionAsync();
        Assert.Equal(8, await conn.ExecuteScalarAsync<int>("select count(*) from filters"));
        Assert.Equal("W146", await conn.ExecuteScalarAsync<string>("select filter from filters where fid = 8"));
        Assert.Equal(18, await conn.ExecuteScalarAsync<int>("select count(*) from scas"));
        var ppids = (await conn.QueryAsync<int>("select ppid from pipelines order by ppid")).ToArray();
        Assert.Equal(new[] { 12, 15, 17, 18 }, ppids);   // 18: the night's injection-recovery (V003)
        Assert.Equal(first.Count, await conn.ExecuteScalarAsync<int>("select count(*) from schema_migrations"));
    }

    [Fact]
    public async Task Refuses_to_run_when_an_applied_migration_was_changed()
    {
        await using var ds = OpsDb.Create(await db.CreateDatabaseAsync("tamper"));
        var tampered = MigrationRunner.Embedded().Select((m, i) => i == 0 ? m with { Sql = m.Sql + "\n-- edited" } : m).ToList();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => new MigrationRunner(ds).MigrateAsync(tampered));
        Assert.Contains("was changed after it was applied", e.Message);
    }

    [Fact]
    public async Task A_failing_migration_leaves_nothing_behind()
    {
        await using var ds = OpsDb.Create(await db.CreateDatabaseAsync("failing"));
        var bad = MigrationRunner.Embedded().Append(new Migration(999, "broken", "create table half_done (x int); select * from no_such_table;")).ToList();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => new MigrationRunner(ds).MigrateAsync(bad));
        Assert.Contains("V999__broken failed", e.Message);
        await using var conn = await ds.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from pg_tables where tablename = 'half_done'"));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from schema_migrations where version = 999"));
    }

    [Fact]
    public async Task Concurrent_runners_apply_each_migration_once()
    {
        await using var ds = OpsDb.Create(await db.CreateDatabaseAsync("concurrent", migrated: false));
        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => new MigrationRunner(ds).MigrateAsync()));
        Assert.Equal(MigrationRunner.Embedded().Count, results.Sum(r => r.Count));
    }

    [Fact]
    public async Task The_schema_enforces_one_best_version_per_natural_key_and_valid_vbest()
    {
        await using var ds = OpsDb.Create(await db.CreateDatabaseAsync("keys"));
        await using var conn = await ds.OpenConnectionAsync();
        var e = await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteAsync(
            "insert into jobs (ppid, procdate) values (15, date '2025-04-04')"));
        Assert.Equal(PostgresErrorCodes.CheckViolation, e.SqlState);
        var fk = await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteAsync(
            "insert into jobs (ppid, procdate, rid) values (15, date '2025-04-04', 12345)"));
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, fk.SqlState);
    }
}
