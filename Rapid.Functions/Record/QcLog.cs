using Dapper;
using Npgsql;
using Rapid.Core.Jobs;
using Rapid.Functions.Record.Qc;

namespace Rapid.Functions.Record;

/// <summary>One QC match as <c>rapid qc</c> lists it: the pattern, the line, its job and attempt, and the product the job made.</summary>
public sealed record QcRow
{
    public long Jid { get; init; }
    public int Attempt { get; init; }
    public int Ppid { get; init; }
    public string Pattern { get; init; } = "";
    public string Severity { get; init; } = "";
    public int Line { get; init; }
    public string Text { get; init; } = "";
    public string Log { get; init; } = "";
    /// <summary>The L2 image the job processed, the difference or reference image it registered (when any).</summary>
    public long? Rid { get; init; }
    public long? Pid { get; init; }
    public long? Rfid { get; init; }
}

/// <summary>The QC matches of a processing date (table <c>qcmatches</c>, view <c>qclog</c>).</summary>
public static class QcLog
{
    /// <param name="minSeverity">info (everything), warning (warnings and errors) or error.</param>
    public static async Task<IReadOnlyList<QcRow>> ListAsync(NpgsqlDataSource dataSource, ProcessingDate procDate, string minSeverity = "info",
        string? pattern = null, CancellationToken ct = default)
    {
        if (!QcPatterns.Severities.Contains(minSeverity))
            throw new ArgumentException($"--severity '{minSeverity}': one of {string.Join(", ", QcPatterns.Severities)}");
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<QcRow>(new CommandDefinition("""
            select q.jid, q.attempt, q.ppid, q.pattern, q.severity, q.line, q.text, q.log, j.rid,
                   (select d.pid from diffimages d where d.jid = q.jid) as pid, (select r.rfid from refimages r where r.jid = q.jid) as rfid
            from qclog q join jobs j on j.jid = q.jid
            where q.procdate = @procdate and qc_severity_rank(q.severity) >= qc_severity_rank(@minSeverity)
              and (@pattern::text is null or q.pattern = @pattern)
            order by qc_severity_rank(q.severity) desc, q.pattern, q.jid, q.attempt, q.line
            """, new { procdate = procDate.Date, minSeverity, pattern }, cancellationToken: ct))).ToList();
    }

    /// <summary>The latest processing date that has jobs, or null when none has.</summary>
    public static async Task<ProcessingDate?> LatestProcDateAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var date = await conn.ExecuteScalarAsync<DateOnly?>(new CommandDefinition("select max(procdate) from jobs", cancellationToken: ct));
        return date is { } d ? new ProcessingDate(d) : null;
    }
}
