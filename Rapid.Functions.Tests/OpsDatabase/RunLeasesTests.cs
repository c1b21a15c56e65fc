using Dapper;
using Npgsql;
using Rapid.Core.Jobs;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.OpsDatabase;

/// <summary>One run per processing date: a lease bound to its holder's session, or one that expires.</summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class RunLeasesTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private static readonly ProcessingDate Date = ProcessingDate.Parse("20280910");
    private OpsWorld _w = null!;

    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    /// <summary>A session of its own, as an embedded run holds (not pooled: closing it ends the session).</summary>
    private async Task<NpgsqlConnection> SessionAsync()
    {
        var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_w.DataSource.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    private async Task BackendEndedAsync(int pid)
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); await conn.ExecuteScalarAsync<bool>("select exists (select 1 from pg_stat_activity where pid = @pid)", new { pid });)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"backend {pid} did not end after its client closed");
            await Task.Delay(10);
        }
    }

    private static async Task<RunLeases.Lease> TakeAsync(NpgsqlConnection conn, string holder, TimeSpan? ttl = null, ProcessingDate? date = null)
    {
        await using var tx = await conn.BeginTransactionAsync();
        var lease = await RunLeases.TakeAsync(conn, tx, date ?? Date, holder, ttl);
        await tx.CommitAsync();
        return lease;
    }

    [Fact]
    public async Task A_second_run_of_the_date_is_refused_naming_the_holder_and_another_date_is_not()
    {
        await using var first = await SessionAsync();
        await TakeAsync(first, "rapid run (pid 1)");

        await using var second = await SessionAsync();
        var e = await Assert.ThrowsAsync<RunInProgressException>(() => TakeAsync(second, "rapid run (pid 2)"));
        Assert.Contains("rapid run (pid 1)", e.Message);
        Assert.Contains("20280910", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        await TakeAsync(second, "rapid run (pid 2)", date: ProcessingDate.Parse("20280911"));
    }

    [Fact]
    public async Task The_lease_of_a_holder_whose_session_ended_without_releasing_it_is_taken_over_at_once()
    {
        var crashed = await SessionAsync();
        await TakeAsync(crashed, "rapid run (pid 1)");
        // The holder dies: its session ends, nothing is released. The server ends the backend (and drops its locks) a moment
        // after the client goes; a run started after the crash comes later than that.
        var backend = crashed.ProcessID;
        await crashed.CloseAsync();
        await BackendEndedAsync(backend);

        await using var next = await SessionAsync();
        var lease = await TakeAsync(next, "rapid run (pid 2)");
        Assert.Equal("rapid run (pid 2)", await RunLeases.HolderAsync(_w.DataSource, Date));
        Assert.NotEqual(Guid.Empty, lease.Token);
    }

    [Fact]
    public async Task An_expiring_lease_blocks_until_it_expires_or_is_released()
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var execution = await TakeAsync(conn, "a state machine execution", TimeSpan.FromHours(1));
        await Assert.ThrowsAsync<RunInProgressException>(() => TakeAsync(conn, "another execution", TimeSpan.FromHours(1)));

        // Released by its token (a wrong token releases nothing).
        Assert.False(await RunLeases.ReleaseAsync(conn, Date, Guid.NewGuid()));
        Assert.True(await RunLeases.ReleaseAsync(conn, Date, execution.Token));
        await TakeAsync(conn, "another execution", TimeSpan.FromHours(1));

        // Expired: taken over without a release.
        await conn.ExecuteAsync("update runleases set expires = now() - interval '1 second'");
        await using var session = await SessionAsync();
        await TakeAsync(session, "rapid run (pid 3)");
        Assert.Equal("rapid run (pid 3)", await RunLeases.HolderAsync(_w.DataSource, Date));
    }

    [Fact]
    public async Task Of_runs_that_start_together_exactly_one_takes_the_date()
    {
        var sessions = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => SessionAsync()));
        try
        {
            var outcomes = await Task.WhenAll(sessions.Select(async (s, i) =>
            {
                try { await TakeAsync(s, $"run {i}", i % 2 == 0 ? null : TimeSpan.FromHours(1)); return true; }
                catch (RunInProgressException) { return false; }
            }));
            Assert.Single(outcomes, taken => taken);
        }
        finally
        {
            foreach (var s in sessions) await s.DisposeAsync();
        }
    }
}
