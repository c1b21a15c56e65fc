using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps;

/// <summary>
/// Plans the night's recovery job (ppid 18), a stage of its own after post-processing is registered: by then the
/// science jobs' tables are registered under their stamped names, which is what it reads. One job row per processing
/// date; it is planned again only when science jobs registered tables after the last merge (or when forced), so a
/// re-run that changed nothing does not redo it.
/// </summary>
public sealed class PlanNightRecovery(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, PlanningOptions? options = null)
{
    private readonly PlanningOptions _options = options ?? new PlanningOptions();

    public async Task<PlanResult> PlanAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var config = await PlanConfigAsync(conn, tx, procDate, _options);
        var writer = new JobPlanWriter(store, keys, _options);
        var list = await writer.WriteConfigsAsync(conn, tx, procDate, PipelineIds.NightRecovery, config is null ? [] : [config], ct);
        await tx.CommitAsync(ct);
        return await writer.WriteListAsync(procDate, list, 0, ct);
    }

    /// <summary>The night's recovery job config (its job row upserted in <paramref name="tx"/>), or null when there is nothing to merge.</summary>
    internal static async Task<JobConfig?> PlanConfigAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ProcessingDate procDate, PlanningOptions options)
    {
        var tables = (await conn.QueryAsync<TableRow>("""
            select r.jid as Jid, r.rid as Rid, r.fid as Fid, f.filter as Filter, r.filename as FileName, r.areadeg2 as AreaDeg2,
                   r.nunmatched as UnmatchedPositive, r.ended as Ended
            from recoveryjobs r
            join filters f on f.fid = r.fid
            join jobs j on j.jid = r.jid
            join diffimages d on d.pid = r.pid
            where r.procdate = @procdate and j.status = 1 and j.exitcode between 0 and 63
            order by r.jid
            """, new { procdate = procDate.Date }, tx)).ToList();
        if (tables.Count == 0) return null;

        var upToDate = await conn.ExecuteScalarAsync<bool>("""
            select exists (select 1 from nightrecovery n where n.procdate = @procdate and n.ntables = @count and n.ended >= @latest)
            """, new { procdate = procDate.Date, count = tables.Count, latest = tables.Max(t => t.Ended) }, tx);
        if (upToDate && !options.Force) return null;

        var jid = await conn.ExecuteScalarAsync<long>("""
            insert into jobs (ppid, procdate, launched) values (@ppid, @procdate, now())
            on conflict (ppid, procdate) where ppid = 18 do update
              set status = 0, exitcode = null, reason = null, started = null, ended = null, elapsed = null,
                  batch_job_id = null, attempt = null, launched = excluded.launched
            returning jid
            """, new { ppid = (short)PipelineIds.NightRecovery, procdate = procDate.Date }, tx);
        return new JobConfig
        {
            Jid = jid, ProcDate = procDate.ToString(),
            Spec = new NightRecoverySpec
            {
                BinWidthMag = options.CompletenessBinWidthMag,
                Tables = tables.Select(t => new RecoveryTableRef
                {
                    Jid = t.Jid, Rid = t.Rid, Fid = t.Fid, Filter = t.Filter, File = ObjectRef.Parse(t.FileName),
                    AreaDeg2 = t.AreaDeg2, UnmatchedPositive = t.UnmatchedPositive,
                }).ToList(),
            },
            Settings = options.Pipeline,
            SettingsProfile = options.SettingsProfile,
        };
    }

    private sealed record TableRow(long Jid, long Rid, short Fid, string Filter, string FileName, double AreaDeg2, int UnmatchedPositive, DateTime Ended);
}
