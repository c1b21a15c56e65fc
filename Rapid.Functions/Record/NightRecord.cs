using Dapper;
using Npgsql;
using Rapid.Core.Jobs;

namespace Rapid.Functions.Record;

/// <summary>One attempt of a job of the night (view <c>attempts</c>): what made it, where and how it ran, how it ended.</summary>
public sealed record AttemptRow
{
    public long Jid { get; init; }
    public int Attempt { get; init; }
    public int Ppid { get; init; }
    public long? RunId { get; init; }
    public string? Tag { get; init; }
    /// <summary>What made it (<see cref="AttemptTriggers"/>): plan, resubmit, batch_retry, unplanned.</summary>
    public string Trigger { get; init; } = "";
    /// <summary>Its latest state (<see cref="JobStates"/>).</summary>
    public string State { get; init; } = "";
    public DateTime Planned { get; init; }
    public DateTime? Submitted { get; init; }
    public DateTime? Started { get; init; }
    public DateTime? Ended { get; init; }
    /// <summary>Seconds from submission to start (Batch's queue and container start); null until both are known.</summary>
    public double? QueueSeconds { get; init; }
    public double? WallSeconds { get; init; }
    public double? CpuSeconds { get; init; }
    public long? PeakMemoryBytes { get; init; }
    public string? Host { get; init; }
    public string? BatchJobId { get; init; }
    public int BatchAttempt { get; init; }
    /// <summary>The process's exit code as the executor or Batch saw it, and the job's exit code (its manifest or registration).</summary>
    public int? ProcessExit { get; init; }
    public int? ExitCode { get; init; }
    public string? Reason { get; init; }
}

/// <summary>One state change or step of an attempt (view <c>jobtimeline</c>), in time order.</summary>
/// <param name="State">A <see cref="JobStates"/> name, or "step" for a step of the manifest's timeline (<see cref="Step"/>).</param>
public sealed record TimelineEntry(long Jid, int Attempt, DateTime At, string State, string? Step, string Source, string? Detail);

/// <summary>
/// The executions of one step of one pipeline over a night (DES's "executions per step"): how many, and their wall and
/// CPU seconds (total, median, 90th percentile, longest).
/// </summary>
public sealed record StepTotals(int Ppid, string Step, int Executions, double WallSeconds, double CpuSeconds, double MedianWallSeconds,
    double P90WallSeconds, double MaxWallSeconds);

/// <summary>How many attempts of a night's jobs reached each state (the night's funnel: planned → ... → registered).</summary>
public sealed record StateCount(int Ppid, string State, int Attempts);

/// <summary>The matches of one QC pattern over a night: how many lines, in how many jobs.</summary>
public sealed record QcPatternCount(string Pattern, string Severity, string Description, int Matches, int Jobs);

/// <summary>
/// The operations record of a processing date as the night report (and anything else) reads it: attempts, state
/// changes, per-step totals and QC matches, each one set-based query over the record's tables and views. Sizes for a
/// 14,000-image night: ~14,000 attempts, ~100 step totals, a few QC patterns; the full timeline (~10 rows per attempt)
/// is read per job (<see cref="TimelineAsync"/>) or as counts (<see cref="StateCountsAsync"/>).
/// </summary>
public sealed class NightRecord(NpgsqlDataSource dataSource)
{
    /// <summary>Every attempt of the date's jobs, by job and attempt.</summary>
    public async Task<IReadOnlyList<AttemptRow>> AttemptsAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<AttemptRow>(new CommandDefinition("""
            select jid, attempt, ppid, runid, tag, trigger, state, planned, submitted, started, ended, queueseconds::float8 as queueseconds, wallseconds, cpuseconds,
                   peakmemorybytes, host, batchjobid, batchattempt, processexit, exitcode, reason
            from attempts where procdate = @procdate order by jid, attempt
            """, new { procdate = procDate.Date }, cancellationToken: ct))).ToList();
    }

    /// <summary>The state changes and steps of the given jobs' attempts (all of their attempts), in time order per attempt.</summary>
    public async Task<IReadOnlyList<TimelineEntry>> TimelineAsync(IReadOnlyCollection<long> jids, CancellationToken ct = default)
    {
        if (jids.Count == 0) return [];
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<TimelineEntry>(new CommandDefinition("""
            select jid, attempt, at, state, step, source, detail from jobtimeline
            where jid = any(@jids) order by jid, attempt, at, state = 'step', state
            """, new { jids = jids.ToArray() }, cancellationToken: ct))).ToList();
    }

    /// <summary>How many of the date's attempts reached each state, per pipeline.</summary>
    public async Task<IReadOnlyList<StateCount>> StateCountsAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<StateCount>(new CommandDefinition("""
            select j.ppid::int as ppid, s.state, count(*)::int as attempts
            from jobstates s join jobs j on j.jid = s.jid
            where j.procdate = @procdate
            group by j.ppid, s.state order by j.ppid, job_state_rank(s.state), s.state
            """, new { procdate = procDate.Date }, cancellationToken: ct))).ToList();
    }

    /// <summary>Executions per step and their wall and CPU seconds, per pipeline (the manifests' timelines).</summary>
    public async Task<IReadOnlyList<StepTotals>> StepTotalsAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<StepTotals>(new CommandDefinition("""
            select j.ppid::int as ppid, s.step, count(*)::int as executions, sum(s.wallseconds) as wallseconds, sum(s.cpuseconds) as cpuseconds,
                   percentile_cont(0.5) within group (order by s.wallseconds) as medianwallseconds,
                   percentile_cont(0.9) within group (order by s.wallseconds) as p90wallseconds, max(s.wallseconds) as maxwallseconds
            from attemptsteps s join jobs j on j.jid = s.jid
            where j.procdate = @procdate
            group by j.ppid, s.step order by j.ppid, min(s.seq), s.step
            """, new { procdate = procDate.Date }, cancellationToken: ct))).ToList();
    }

    /// <summary>The date's QC matches counted per pattern, most severe first (the lines themselves: <see cref="QcLog.ListAsync"/>).</summary>
    public async Task<IReadOnlyList<QcPatternCount>> QcCountsAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<QcPatternCount>(new CommandDefinition("""
            select pattern, severity, min(description) as description, count(*)::int as matches, count(distinct jid)::int as jobs
            from qclog where procdate = @procdate
            group by pattern, severity order by qc_severity_rank(severity) desc, count(*) desc, pattern
            """, new { procdate = procDate.Date }, cancellationToken: ct))).ToList();
    }
}
