using Dapper;
using Npgsql;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Record;

namespace Rapid.Functions.Steps;

/// <summary>What closing an ended execution found and did.</summary>
/// <param name="RunId">The execution's run; null when it never began one (it ended in or before ResolveWindow).</param>
/// <param name="Registration">The run's jobs that were still open: manifests registered, the others closed as lost.</param>
public sealed record ClosedExecution(long? RunId, bool RunEnded, bool LeaseReleased, RegistrationReport Registration);

/// <summary>
/// Closes what a state machine execution that ended without reaching its own end left open. An execution that times out
/// or is stopped runs no state of its own any more (no Catch, no ReleaseNight), and one whose failure path failed too
/// leaves the same: its run <c>running</c>, its processing date's run lease held (until the lease expires with the
/// execution's timeout) and the jobs it planned open. Here, from the execution's ARN (<c>runs.execution</c>): the run's
/// open jobs are registered as registration after a stage would (a manifest that exists is registered; a job without one
/// is closed as lost, exit 70, with the reason), the run is ended (<c>interrupted</c> for a stopped execution, else
/// <c>failed</c>) with the reason, and the lease it took is released by its token (<c>runs.lease</c>, V016: a lease another
/// execution took since is left alone). Idempotent: a run already ended and a lease already released stay as they are,
/// so the failure path's own ReleaseNight and this can both run.
/// </summary>
public sealed class CloseExecution(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys)
{
    /// <param name="stopped">The execution was stopped (aborted) rather than failed or timed out.</param>
    public async Task<ClosedExecution> CloseAsync(string executionArn, bool stopped, string reason, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var run = await conn.QuerySingleOrDefaultAsync<(long RunId, DateOnly ProcDate, Guid? Lease, bool Ended)?>(new CommandDefinition(
            "select runid, procdate, lease, ended is not null from runs where execution = @executionArn",
            new { executionArn }, cancellationToken: ct));
        if (run is not { } r) return new ClosedExecution(null, false, false, new RegistrationReport());

        var procDate = new ProcessingDate(r.ProcDate);
        // The jobs the run planned or resubmitted (an attempt of this run) that no registration closed.
        var open = (await conn.QueryAsync<long>(new CommandDefinition("""
            select j.jid from jobs j
            where j.status = 0 and exists (select 1 from jobattempts a where a.jid = j.jid and a.runid = @runId)
            order by j.jid
            """, new { r.RunId }, cancellationToken: ct))).ToList();
        var registration = open.Count == 0 ? new RegistrationReport()
            : await new RegisterCompletedJobs(dataSource, store, keys).RegisterAsync(
                open.Select(jid => (jid, keys.Manifest(procDate, jid))).ToList(), open.ToDictionary(jid => jid, _ => reason), ct);
        if (!r.Ended) await Runs.EndAsync(conn, r.RunId, stopped ? RunStatuses.Interrupted : RunStatuses.Failed, reason, ct);
        var released = r.Lease is { } token && await RunLeases.ReleaseAsync(conn, procDate, token, ct: ct);
        return new ClosedExecution(r.RunId, !r.Ended, released, registration);
    }
}
