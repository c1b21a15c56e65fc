using Dapper;
using Npgsql;
using Rapid.Core.Jobs;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Functions.Steps;

/// <summary>A night begun: its window and processing date, and the lease that makes it the only run of that date.</summary>
/// <param name="LateFrom">A scheduled run only: the earliest DATE-OBS of the images registered after the windows they belong to.</param>
/// <param name="Resumed">A scheduled run that finishes the previous scheduled run, which did not end (same date, window extended).</param>
public sealed record NightStart(ResolvedWindow Night, RunLeases.Lease Lease, DateTime? LateFrom = null, bool Resumed = false)
{
    /// <summary>What the plan steps select from: a scheduled run's window, reaching back to its late arrivals.</summary>
    public ObservationWindow Selection =>
        LateFrom is { } late && late < Night.Window.Start ? new ObservationWindow(late, Night.Window.End) : Night.Window;
}

/// <summary>
/// Begins a night in the ops database, in one transaction: resolves a scheduled run's window from the
/// watermark (table <c>nightwindows</c>: the window starts where the last scheduled one ended and ends at the
/// run's start, so consecutive scheduled runs leave no gap and no overlap whatever the time zone does; a
/// scheduled run that did not end is resumed instead) and takes the processing date's run lease, so a
/// second run of the same date stops before it changes anything. An explicit window is taken as given and
/// leaves the watermark alone.
/// </summary>
public sealed class StartNight(ResolveWindow resolver)
{
    /// <param name="conn">For a session-bound lease (<paramref name="leaseTtl"/> null), the connection whose session holds it.</param>
    public async Task<NightStart> StartAsync(NpgsqlConnection conn, WindowRequest request, string holder, TimeSpan? leaseTtl,
        CancellationToken ct = default)
    {
        var resolved = resolver.Resolve(request);
        await using var tx = await conn.BeginTransactionAsync(ct);
        NightStart night;
        if (!resolved.Scheduled)
            night = new NightStart(resolved, await RunLeases.TakeAsync(conn, tx, resolved.ProcDate, holder, leaseTtl, ct));
        else
            night = await StartScheduledAsync(conn, tx, resolved, request, holder, leaseTtl, ct);
        await tx.CommitAsync(ct);
        return night;
    }

    private static async Task<NightStart> StartScheduledAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ResolvedWindow resolved,
        WindowRequest request, string holder, TimeSpan? leaseTtl, CancellationToken ct)
    {
        // Scheduled runs resolve one after the other: the watermark is read and moved under this lock.
        await conn.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtextextended('rapid nightwindows', 0))", transaction: tx, cancellationToken: ct));
        var last = await conn.QuerySingleOrDefaultAsync<LastWindow>(new CommandDefinition(
            "select nwid, procdate, startobs, endobs, completed is not null as completed from nightwindows order by endobs desc limit 1",
            transaction: tx, cancellationToken: ct));
        var cutoff = resolved.Window.End;
        var procDate = resolved.ProcDate;
        DateTime start;
        var resumed = last is { Completed: false };
        if (resumed)
        {
            var unfinished = new ProcessingDate(last!.ProcDate);
            if (!string.IsNullOrWhiteSpace(request.ProcDate) && unfinished != procDate)
                throw new ArgumentException($"the scheduled run of {unfinished} (window from {ObservationWindow.Format(Utc(last.StartObs))}) did not end: " +
                                            $"run without a processing date to finish it, or give the window of processing date {procDate} explicitly");
            procDate = unfinished;
            start = Utc(last.StartObs);
        }
        else start = last is null ? resolved.Window.Start : Utc(last.EndObs);
        if (cutoff <= start)
            throw new InvalidOperationException(
                $"the scheduled window would be empty: the last one ends at {ObservationWindow.Format(start)} UTC, not before now ({ObservationWindow.Format(cutoff)} UTC); is the clock behind?");

        var lease = await RunLeases.TakeAsync(conn, tx, procDate, holder, leaseTtl, ct);
        var args = new { nwid = last?.Nwid, procdate = procDate.Date, start, end = cutoff };
        await conn.ExecuteAsync(new CommandDefinition(resumed
                ? "update nightwindows set endobs = @end where nwid = @nwid"
                : "insert into nightwindows (procdate, startobs, endobs) values (@procdate, @start, @end)",
            args, tx, cancellationToken: ct));
        // Images registered after the window they were observed in (never before the first scheduled window).
        var lateFrom = await conn.ExecuteScalarAsync<DateTime?>(new CommandDefinition("""
            select min(p.dateobs) from l2pending p
            where p.dateobs < @start and p.dateobs >= (select min(startobs) from nightwindows)
            """, args, tx, cancellationToken: ct));
        return new NightStart(new ResolvedWindow(new ObservationWindow(start, cutoff), procDate, Scheduled: true), lease,
            lateFrom is { } l ? Utc(l) : null, resumed);
    }

    /// <summary>
    /// Ends a night: a scheduled window is marked finished when <paramref name="completed"/> (the workflow reached its
    /// end; a run that stopped half-way leaves it open, and the next scheduled run resumes it), and the lease is released.
    /// </summary>
    public static Task FinishAsync(NpgsqlConnection conn, NightStart night, bool completed, CancellationToken ct = default) =>
        FinishAsync(conn, night.Lease.ProcDate, night.Lease.Token, night.Night.Scheduled, completed, ct);

    /// <inheritdoc cref="FinishAsync(NpgsqlConnection, NightStart, bool, CancellationToken)"/>
    public static async Task FinishAsync(NpgsqlConnection conn, ProcessingDate procDate, Guid lease, bool scheduled, bool completed,
        CancellationToken ct = default)
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (completed && scheduled)
            await conn.ExecuteAsync(new CommandDefinition(
                "update nightwindows set completed = now() where procdate = @procdate and completed is null",
                new { procdate = procDate.Date }, tx, cancellationToken: ct));
        await RunLeases.ReleaseAsync(conn, procDate, lease, tx, ct);
        await tx.CommitAsync(ct);
    }

    private static DateTime Utc(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc);

    private sealed record LastWindow(long Nwid, DateOnly ProcDate, DateTime StartObs, DateTime EndObs, bool Completed);
}
