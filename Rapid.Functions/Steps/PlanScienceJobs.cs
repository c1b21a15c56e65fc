using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps;

/// <summary>
/// Plans the science jobs (ppid 15): one per best L2 image of the night (<c>night_images</c>: the window's, or a
/// scheduled night's pending ones), given the best registered
/// reference image of its (field, filter), or else the earlier images to co-add (the job then co-adds
/// or ends with exit 33). Set-based: one candidate query, one multi-row upsert of job rows, configs
/// written in parallel. (The original launched one process and one DB connection per image: 1183 s for
/// 2069 images.) A re-run on the same processing date reuses the job rows; jobs whose difference image
/// is already registered for this date are skipped unless <see cref="PlanningOptions.Force"/>. A run for a submitted job
/// (<see cref="PlanningOptions.Submission"/>) plans its image only (none for a submission that is not science).
/// </summary>
public sealed class PlanScienceJobs(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, PlanningOptions? options = null)
{
    private readonly PlanningOptions _options = options ?? new PlanningOptions();

    public async Task<PlanResult> PlanAsync(ObservationWindow window, ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var nightImages = (await conn.QueryAsync<Candidate>("""
            select l.rid as Rid, l.expid as Expid, l.sca as Sca, l.fid as Fid, flt.filter as Filter, l.field as Field,
                   l.mjdobs as MjdObs, l.exptime as ExpTime, l.filename as FileName, l.checksum as Md5,
                   fl.ra0 as TileRa, fl.dec0 as TileDec,
                   r.rfid as Rfid, r.version as RfVersion, r.filename as RfImage,
                   (select p.filename from jobproducts p where p.jid = r.jid and p.role = @covRole) as RfCoverage,
                   (select p.filename from jobproducts p where p.jid = r.jid and p.role = @uncRole) as RfUncertainty,
                   exists (select 1 from jobs j join diffimages d on d.jid = j.jid
                           where j.ppid = 15 and j.procdate = @procdate and j.rid = l.rid and j.status = 1) as Registered
            from night_images(@start, @end, @procdate, @scheduled) n
            join l2files l on l.rid = n.rid
            join filters flt on flt.fid = l.fid
            join fields fl on fl.field = l.field
            left join lateral (
              select r.rfid, r.version, r.filename, r.jid from refimages r
              where r.field = l.field and r.fid = l.fid and r.vbest > 0 and r.status > 0
              order by r.ppid limit 1) r on true
            where @rids::bigint[] is null or n.rid = any(@rids)
            order by l.mjdobs, l.sca, l.rid
            """,
            new
            {
                start = PlanReferenceImages.Utc(window.Start), end = PlanReferenceImages.Utc(window.End), procdate = procDate.Date,
                scheduled = _options.Scheduled, rids = SubmittedJob.ImagesOf(_options.Submission), covRole = ProductRoles.ReferenceCoverage, uncRole = ProductRoles.ReferenceUncertainty,
            }, tx)).ToList();
        // Every image of the night is now covered (planned, or registered earlier on this date): it waits no longer,
        // and neither do the versions newer ones replaced.
        await conn.ExecuteAsync("""
            delete from l2pending where rid = any(@rids);
            delete from l2pending p using l2files l where l.rid = p.rid and l.vbest = 0;
            """, new { rids = nightImages.Select(c => c.Rid).ToArray() }, tx);
        var candidates = nightImages.Where(c => _options.Force || !c.Registered).ToList();

        var withoutReference = candidates.Where(c => c.Rfid is null).Select(c => (c.Field, c.Fid)).Distinct().ToList();
        var inputs = await ReferenceCandidates.FindAsync(conn, tx, withoutReference, window.Start, _options);

        var jids = (await conn.QueryAsync<(long Jid, long Rid)>("""
            insert into jobs (ppid, procdate, rid, expid, sca, field, fid, rfid, launched)
            select 15, @procdate, l.rid, l.expid, l.sca, l.field, l.fid, u.rfid, now()
            from unnest(@rids, @rfids) as u(rid, rfid) join l2files l on l.rid = u.rid
            on conflict (ppid, procdate, rid) where ppid = 15 do update
              set status = 0, exitcode = null, reason = null, started = null, ended = null, elapsed = null,
                  batch_job_id = null, attempt = null, rfid = excluded.rfid, launched = excluded.launched
            returning jid, rid
            """,
            new
            {
                procdate = procDate.Date,
                rids = candidates.Select(c => c.Rid).ToArray(),
                rfids = candidates.Select(c => c.Rfid).ToArray(),
            }, tx)).ToDictionary(j => j.Rid, j => j.Jid);

        var configs = candidates.Select(c => new JobConfig
        {
            Jid = jids[c.Rid], ProcDate = procDate.ToString(),
            Spec = new ScienceSpec
            {
                Science = new L2Image
                {
                    Rid = c.Rid, Expid = c.Expid, Sca = c.Sca, Fid = c.Fid, Filter = c.Filter, Field = c.Field,
                    MjdObs = c.MjdObs, ExpTime = c.ExpTime, File = ObjectRef.Parse(c.FileName), Md5 = c.Md5,
                },
                Tile = new TileGrid
                {
                    Field = c.Field, CenterRaDeg = c.TileRa, CenterDecDeg = c.TileDec,
                    Naxis1 = _options.TileNaxis1, Naxis2 = _options.TileNaxis2, PixelScaleArcsec = _options.PixelScaleArcsec,
                },
                Reference = c.Rfid is { } rfid
                    ? new ReferenceSource
                    {
                        Rfid = rfid, Version = c.RfVersion, Image = ObjectRef.Parse(c.RfImage!),
                        Coverage = c.RfCoverage is null ? null : ObjectRef.Parse(c.RfCoverage),
                        Uncertainty = c.RfUncertainty is null ? null : ObjectRef.Parse(c.RfUncertainty),
                    }
                    : new ReferenceSource { Inputs = inputs[(c.Field, c.Fid)] },
                FakeSources = _options.FakeSources is { Enabled: true } fakes ? fakes with { Seed = JobSeed(fakes.Seed, c.Rid) } : null,
            },
            Settings = _options.Pipeline,
            SettingsProfile = _options.SettingsProfile,
        }).ToList();

        var writer = new JobPlanWriter(store, keys, _options);
        var list = await writer.WriteConfigsAsync(conn, tx, procDate, PipelineIds.Science, configs, ct);
        await tx.CommitAsync(ct);
        return await writer.WriteListAsync(procDate, list, 0, ct);
    }

    /// <summary>
    /// A per-image seed from the configured one and the rid (SplitMix64 finaliser; not string hashing, which .NET
    /// randomises per process), kept positive and within 31 bits so any random generator takes it.
    /// </summary>
    public static long JobSeed(long seed, long rid)
    {
        var z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)rid);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (long)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }

    private sealed record Candidate(long Rid, long Expid, short Sca, short Fid, string Filter, long Field,
        double MjdObs, double ExpTime, string FileName, string Md5, double TileRa, double TileDec,
        long? Rfid, int? RfVersion, string? RfImage, string? RfCoverage, string? RfUncertainty, bool Registered);
}
