using Dapper;
using Npgsql;
using Rapid.Core.Jobs;

namespace Rapid.Functions.Steps;

public sealed record JobCount(int Ppid, int Status, int? ExitCode, int Count);
public sealed record JobFailure(long Jid, int Ppid, int? ExitCode, string? Reason, long? Rid, long? Field, int? Fid);
public sealed record PipelineTiming(int Ppid, int Jobs, double TotalSeconds, double MeanSeconds, double MaxSeconds);

/// <summary>
/// A night's injection-recovery for one filter and kind ("fake": injected; "transient": the simulator's truth transients).
/// Mag50/Mag90: 50 %/90 % completeness magnitudes (null when completeness does not fall through them); FluxBias: median
/// (measured − injected)/injected; FalsePositivesPerDeg2: positive detections matching no fake or truth object.
/// </summary>
public sealed record RecoverySummary(int Fid, string Filter, string Kind, int Images, int Injected, int Found,
    double? Mag50, double? Mag90, double? FluxBias, int Unmatched, double AreaDeg2, double? FalsePositivesPerDeg2)
{
    public double Completeness => Injected == 0 ? double.NaN : Found / (double)Injected;
}

/// <summary>Warnings of one kind (a <see cref="Rapid.Core.Contracts.JobWarningKind"/> name) raised by a pipeline's jobs of the night.</summary>
public sealed record WarningCount(int Ppid, string Kind, int Jobs);

/// <summary>One completeness bin of a night: [MagLow, MagHigh).</summary>
public sealed record RecoveryBin(int Fid, string Kind, double MagLow, double MagHigh, int Injected, int Found, double Completeness, double? FluxBias);

/// <summary>What ran on a processing date: what the CLI prints at the end of a night and for <c>rapid status</c>.</summary>
public sealed record NightSummary
{
    public required ProcessingDate ProcDate { get; init; }
    /// <summary>Jobs by pipeline, status (0 open, 1 closed) and exit code.</summary>
    public IReadOnlyList<JobCount> Jobs { get; init; } = [];
    /// <summary>Closed jobs with a warning or error exit code, and jobs still open.</summary>
    public IReadOnlyList<JobFailure> Failures { get; init; } = [];
    /// <summary>Jobs with a warning of each kind, per pipeline (a job with two warnings of a kind counts once).</summary>
    public IReadOnlyList<WarningCount> Warnings { get; init; } = [];
    public int ReferenceImages { get; init; }
    public int DifferenceImages { get; init; }
    /// <summary>Sum of nsources over the difference images registered by this date's jobs.</summary>
    public long SourcesFound { get; init; }
    public IReadOnlyList<PipelineTiming> Elapsed { get; init; } = [];
    /// <summary>The night's completeness per filter and kind, from its recovery job (empty when none ran).</summary>
    public IReadOnlyList<RecoverySummary> Recovery { get; init; } = [];
    public IReadOnlyList<RecoveryBin> RecoveryBins { get; init; } = [];
    public int TotalJobs => Jobs.Sum(j => j.Count);
}

public sealed class SummarizeNight(NpgsqlDataSource dataSource)
{
    /// <summary>The latest processing date any job ran on; null when the ops database has no jobs.</summary>
    public async Task<ProcessingDate?> LatestProcessingDateAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // As DateTime: Dapper cannot read a null into DateOnly? (the max of no rows).
        var latest = await conn.QuerySingleAsync<DateTime?>(new CommandDefinition("select max(procdate)::timestamp from jobs", cancellationToken: ct));
        return latest is { } d ? new ProcessingDate(DateOnly.FromDateTime(d)) : null;
    }

    /// <param name="requireJobs">When true (as <c>rapid status</c>), a date with no jobs is an error naming it.</param>
    public async Task<NightSummary> SummarizeAsync(ProcessingDate procDate, bool requireJobs = false, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var args = new { procdate = procDate.Date };
        var counts = (await conn.QueryAsync<(short Ppid, short Status, int? ExitCode, long Count)>("""
            select ppid, status, exitcode, count(*) from jobs where procdate = @procdate
            group by ppid, status, exitcode order by ppid, status, exitcode nulls first
            """, args)).Select(r => new JobCount(r.Ppid, r.Status, r.ExitCode, (int)r.Count)).ToList();
        if (requireJobs && counts.Count == 0)
            throw new ArgumentException($"processing date {procDate} is unknown: no jobs ran on it in this ops database");
        var failures = (await conn.QueryAsync<(long Jid, short Ppid, int? ExitCode, string? Reason, long? Rid, long? Field, short? Fid)>("""
            select jid, ppid, exitcode, case when status = 0 then coalesce(reason, 'still open') else reason end, rid, field, fid
            from jobs where procdate = @procdate and (status = 0 or exitcode not between 0 and 31)
            order by ppid, jid
            """, args)).Select(r => new JobFailure(r.Jid, r.Ppid, r.ExitCode, r.Reason, r.Rid, r.Field, r.Fid)).ToList();
        var warnings = (await conn.QueryAsync<(short Ppid, string Kind, long Jobs)>("""
            select j.ppid, w.kind, count(distinct j.jid) from jobwarnings w join jobs j on j.jid = w.jid
            where j.procdate = @procdate group by j.ppid, w.kind order by j.ppid, w.kind
            """, args)).Select(r => new WarningCount(r.Ppid, r.Kind, (int)r.Jobs)).ToList();
        var products = await conn.QuerySingleAsync<(long Refs, long Diffs, long Sources)>("""
            select (select count(*) from refimages r join jobs j on j.jid = r.jid where j.procdate = @procdate),
                   (select count(*) from diffimages d join jobs j on j.jid = d.jid where j.procdate = @procdate),
                   (select coalesce(sum(m.nsources), 0)::bigint from diffimmeta m join diffimages d on d.pid = m.pid
                      join jobs j on j.jid = d.jid where j.procdate = @procdate)
            """, args);
        var timings = (await conn.QueryAsync<(short Ppid, long Jobs, double Total, double Mean, double Max)>("""
            select ppid, count(*), sum(elapsed), avg(elapsed), max(elapsed)
            from jobs where procdate = @procdate and elapsed is not null group by ppid order by ppid
            """, args)).Select(r => new PipelineTiming(r.Ppid, (int)r.Jobs, r.Total, r.Mean, r.Max)).ToList();
        var recovery = (await conn.QueryAsync<RecoverySummary>("""
            select n.fid::int as Fid, f.filter as Filter, n.kind as Kind, n.nimages as Images, n.ninjected as Injected, n.nfound as Found,
                   n.mag50 as Mag50, n.mag90 as Mag90, n.fluxbias as FluxBias, n.nunmatched as Unmatched, n.areadeg2 as AreaDeg2,
                   n.falseposdeg2 as FalsePositivesPerDeg2
            from nightrecoveryfigures n join filters f on f.fid = n.fid
            where n.procdate = @procdate order by n.fid, n.kind
            """, args)).ToList();
        var bins = (await conn.QueryAsync<RecoveryBin>("""
            select fid::int as Fid, kind as Kind, maglow as MagLow, maghigh as MagHigh, ninjected as Injected, nfound as Found,
                   completeness as Completeness, fluxbias as FluxBias
            from nightrecoverybins where procdate = @procdate order by fid, kind, maglow
            """, args)).ToList();
        return new NightSummary
        {
            Recovery = recovery, RecoveryBins = bins,
            ProcDate = procDate, Jobs = counts, Failures = failures, Warnings = warnings,
            ReferenceImages = (int)products.Refs, DifferenceImages = (int)products.Diffs, SourcesFound = products.Sources,
            Elapsed = timings,
        };
    }
}
