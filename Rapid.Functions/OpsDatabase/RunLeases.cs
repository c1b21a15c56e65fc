using Dapper;
using Npgsql;
using Rapid.Core.Jobs;

namespace Rapid.Functions.OpsDatabase;

/// <summary>Another run holds the processing date: the second run stops before it changes anything.</summary>
public sealed class RunInProgressException(ProcessingDate procDate, string holder, DateTimeOffset since, DateTimeOffset? expires)
    : Exception($"processing date {procDate} is being run by {holder} since {since.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC"
                + (expires is { } e ? $" (its lease lasts until {e.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC unless it ends first)" : "")
                + ": only one run of a processing date at a time; wait for it to end and run again")
{
    public ProcessingDate ProcDate { get; } = procDate;
    public string Holder { get; } = holder;
}

/// <summary>
/// One run per processing date at a time (table <c>runleases</c>, functions <c>take_run_lease</c> and
/// <c>release_run_lease</c>). A lease is bound to its holder's database session (embedded runs: it ends
/// the moment the session does, so a killed run never blocks the next one), or lasts until it expires (a
/// state machine execution, which has no session across its steps: the lease lasts as long as the execution
/// may, and the execution's last state releases it).
/// </summary>
public static class RunLeases
{
    /// <summary>A lease taken: its token releases it.</summary>
    public sealed record Lease(ProcessingDate ProcDate, Guid Token, string Holder);

    /// <summary>
    /// Takes the lease of <paramref name="procDate"/> inside <paramref name="tx"/>; <paramref name="ttl"/> null binds
    /// it to <paramref name="conn"/>'s session. Throws <see cref="RunInProgressException"/> when a live holder has it.
    /// </summary>
    public static async Task<Lease> TakeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ProcessingDate procDate, string holder,
        TimeSpan? ttl, CancellationToken ct = default)
    {
        var token = Guid.NewGuid();
        var answer = await conn.QuerySingleAsync<(bool Taken, string Holder, DateTime Acquired, DateTime? Expires)>(new CommandDefinition(
            "select o_taken, o_holder, o_acquired, o_expires from take_run_lease(@procdate, @holder, @token, @ttl::double precision * interval '1 second')",
            new { procdate = procDate.Date, holder, token, ttl = ttl?.TotalSeconds }, tx, cancellationToken: ct));
        if (!answer.Taken)
            throw new RunInProgressException(procDate, answer.Holder, Utc(answer.Acquired), answer.Expires is { } e ? Utc(e) : null);
        return new Lease(procDate, token, holder);
    }

    /// <summary>Ends a lease (a no-op when it was already taken over or released).</summary>
    public static async Task<bool> ReleaseAsync(NpgsqlConnection conn, ProcessingDate procDate, Guid token, NpgsqlTransaction? tx = null, CancellationToken ct = default) =>
        await conn.ExecuteScalarAsync<bool>(new CommandDefinition("select release_run_lease(@procdate, @token)",
            new { procdate = procDate.Date, token }, tx, cancellationToken: ct));

    /// <summary>Who holds the lease of <paramref name="procDate"/> now, if anyone (for status and messages).</summary>
    public static async Task<string?> HolderAsync(NpgsqlDataSource dataSource, ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select holder from runleases where procdate = @procdate", new { procdate = procDate.Date }, cancellationToken: ct));
    }

    /// <summary>Who this process is, for the other runs' messages: program, process id, host and user.</summary>
    public static string DescribeThisProcess(string program) =>
        $"{program} (pid {Environment.ProcessId} on {Environment.MachineName}, user {Environment.UserName})";

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}
