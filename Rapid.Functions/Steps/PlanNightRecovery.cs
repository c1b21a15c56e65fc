using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;

namespace Rapid.Functions.Steps;

/// <summary>
/// Plans the night's recovery job (ppid 18) as one more child of the post-processing array: it runs after the
/// science jobs are registered (their tables are known) and needs no state of its own in the workflow. One job
/// row per processing date; it is planned again only when science jobs registered tables after the last merge
/// (or when forced), so a re-run that changed nothing does not redo it.
/// </summary>
internal static class PlanNightRecovery
{
    public static async Task<JobConfig?> PlanAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ProcessingDate procDate, PlanningOptions options)
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
            Jid = jid, Ppid = PipelineIds.NightRecovery, ProcDate = procDate.ToString(),
            NightRecovery = new NightRecoveryInput
            {
                BinWidthMag = options.CompletenessBinWidthMag,
                Tables = tables.Select(t => new RecoveryTableRef
                {
                    Jid = t.Jid, Rid = t.Rid, Fid = t.Fid, Filter = t.Filter, File = Core.Storage.ObjectRef.Parse(t.FileName),
                    AreaDeg2 = t.AreaDeg2, UnmatchedPositive = t.UnmatchedPositive,
                }).ToList(),
            },
            Settings = options.Pipeline,
        };
    }

    private sealed record TableRow(long Jid, long Rid, short Fid, string Filter, string FileName, double AreaDeg2, int UnmatchedPositive, DateTime Ended);
}
