using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps;

/// <summary>
/// Plans the reference-image jobs (ppid 12): one per (field, filter) of the night's best L2 images (<c>night_images</c>) that has no best
/// reference image yet and at least MinReferenceInputs earlier images to co-add. Pairs with fewer are not planned: their
/// science jobs end with exit 33, as in the original. A pair that has a best reference is planned again when forced, or,
/// with <see cref="PlanningOptions.SuperiorReferences"/>, when the images now available would make a superior one
/// (more frames, or a higher predicted 5th-percentile coverage); registration makes the new version best unless the
/// current one is locked. A run for a submitted job (<see cref="PlanningOptions.Submission"/>) plans its (field, filter)
/// only: a submitted reference's, always (a new version when one exists), or a submitted science image's, when it has none.
/// </summary>
public sealed class PlanReferenceImages(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, PlanningOptions? options = null)
{
    private readonly PlanningOptions _options = options ?? new PlanningOptions();

    public async Task<PlanResult> PlanAsync(ObservationWindow window, ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var submitted = _options.Submission is { IsReference: true };
        // The window's (field, filter) pairs with their best reference image, if any (a ppid-12 one before a science job's own).
        var pairs = (await conn.QueryAsync<Pair>("""
            select p.field as Field, p.fid as Fid, r.rfid as Rfid, r.vbest as Vbest, m.nframes as NFrames
            from (select distinct l.field, l.fid
                  from night_images(@start, @end, @procdate, @scheduled) n join l2files l on l.rid = n.rid
                  where @field::bigint is null and (@rids::bigint[] is null or n.rid = any(@rids))
                  union select @field, @fid where @field::bigint is not null) p
            left join lateral (
              select r.rfid, r.vbest from refimages r
              where r.field = p.field and r.fid = p.fid and r.vbest > 0 and r.status > 0
              order by r.ppid limit 1) r on true
            left join refimmeta m on m.rfid = r.rfid
            order by 1, 2
            """, new
            {
                start = Utc(window.Start), end = Utc(window.End), procdate = procDate.Date, scheduled = _options.Scheduled,
                // A submitted reference names its (field, filter); a submitted science image, the image whose tile needs one.
                field = submitted ? _options.Submission!.Pair!.Value.Field : (long?)null,
                fid = submitted ? _options.Submission!.Pair!.Value.Fid : (short?)null,
                rids = SubmittedJob.ImagesOf(_options.Submission),
            }, tx)).ToList();
        var considered = pairs.Where(p => p.Rfid is null || _options.Force || submitted || (_options.SuperiorReferences && p.Vbest != 2)).ToList();
        var inputs = await ReferenceCandidates.FindAsync(conn, tx, considered.Select(p => (p.Field, p.Fid)).ToList(), window.Start, _options);
        var tiles = (await conn.QueryAsync<(long Field, double Ra0, double Dec0)>(
            "select field, ra0, dec0 from fields where field = any(@fields)",
            new { fields = considered.Select(p => p.Field).Distinct().ToArray() }, tx)).ToDictionary(t => t.Field, TileGridOf);

        var superior = considered.Where(p => p.Rfid is not null && !_options.Force && !submitted).ToList();
        var better = superior.Count == 0 ? [] : await SuperiorAsync(conn, tx, superior, inputs, tiles);
        var planned = considered
            .Where(p => inputs[(p.Field, p.Fid)].Count >= _options.Pipeline.MinReferenceInputs)
            .Where(p => p.Rfid is null || _options.Force || submitted || better.Contains((p.Field, p.Fid)))
            .Select(p => (p.Field, p.Fid)).ToList();

        var jobs = (await conn.QueryAsync<(long Jid, long Field, short Fid)>("""
            insert into jobs (ppid, procdate, field, fid, launched)
            select 12, @procdate, u.field, u.fid, now() from unnest(@fields, @fids) as u(field, fid)
            on conflict (ppid, procdate, field, fid) where ppid = 12 do update
              set status = 0, exitcode = null, reason = null, started = null, ended = null, elapsed = null,
                  batch_job_id = null, attempt = null, launched = excluded.launched
            returning jid, field, fid
            """,
            new
            {
                procdate = procDate.Date,
                fields = planned.Select(p => p.Field).ToArray(),
                fids = planned.Select(p => p.Fid).ToArray(),
            }, tx)).ToDictionary(j => (j.Field, j.Fid), j => j.Jid);

        var configs = planned.Select(p => new JobConfig
        {
            Jid = jobs[p], ProcDate = procDate.ToString(),
            Spec = new ReferenceImageSpec { Tile = tiles[p.Field], Inputs = inputs[p] },
            Settings = _options.Pipeline,
            SettingsProfile = _options.SettingsProfile,
        }).ToList();
        var writer = new JobPlanWriter(store, keys, _options);
        var list = await writer.WriteConfigsAsync(conn, tx, procDate, PipelineIds.ReferenceImage, configs, ct);
        await tx.CommitAsync(ct);
        return await writer.WriteListAsync(procDate, list, 0, ct);
    }

    /// <summary>
    /// The pairs whose best reference the available inputs would beat: at least SuperiorReferenceMinExtraFrames more frames
    /// than it co-added, or a predicted 5th-percentile coverage at least SuperiorReferenceMinCoverageGain frames higher
    /// than its own inputs' (both predicted the same way, from footprints).
    /// </summary>
    private async Task<HashSet<(long Field, short Fid)>> SuperiorAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<Pair> pairs,
        Dictionary<(long Field, short Fid), List<L2Image>> inputs, Dictionary<long, TileGrid> tiles)
    {
        var current = (await conn.QueryAsync<(long Rfid, long Rid)>(
            "select rfid, rid from refimimages where rfid = any(@rfids)", new { rfids = pairs.Select(p => p.Rfid!.Value).ToArray() }, tx))
            .ToLookup(r => r.Rfid, r => r.Rid);
        var rids = current.SelectMany(g => g).Concat(pairs.SelectMany(p => inputs[(p.Field, p.Fid)].Select(i => i.Rid))).Distinct().ToArray();
        var footprints = (await conn.QueryAsync<Corners>("""
            select rid as Rid, ra1 as Ra1, dec1 as Dec1, ra2 as Ra2, dec2 as Dec2, ra3 as Ra3, dec3 as Dec3, ra4 as Ra4, dec4 as Dec4
            from l2filemeta where rid = any(@rids)
            """, new { rids }, tx)).ToDictionary(c => c.Rid, c => c.Footprint);

        var better = new HashSet<(long Field, short Fid)>();
        foreach (var p in pairs)
        {
            var candidates = inputs[(p.Field, p.Fid)];
            var frames = p.NFrames ?? current[p.Rfid!.Value].Count();
            if (candidates.Count >= frames + _options.SuperiorReferenceMinExtraFrames)
            {
                better.Add((p.Field, p.Fid));
                continue;
            }
            var tile = tiles[p.Field];
            double Predicted(IEnumerable<long> r) => ReferenceCoveragePrediction.Cov5Percent(tile, r.Where(footprints.ContainsKey).Select(x => footprints[x]));
            if (Predicted(candidates.Select(i => i.Rid)) >= Predicted(current[p.Rfid!.Value]) + _options.SuperiorReferenceMinCoverageGain)
                better.Add((p.Field, p.Fid));
        }
        return better;
    }

    private sealed record Pair(long Field, short Fid, long? Rfid, short? Vbest, int? NFrames);

    private sealed record Corners(long Rid, double Ra1, double Dec1, double Ra2, double Dec2, double Ra3, double Dec3, double Ra4, double Dec4)
    {
        public ReferenceCoveragePrediction.Footprint Footprint => new([(Ra1, Dec1), (Ra2, Dec2), (Ra3, Dec3), (Ra4, Dec4)]);
    }

    private TileGrid TileGridOf((long Field, double Ra0, double Dec0) t) => new()
    {
        Field = t.Field, CenterRaDeg = t.Ra0, CenterDecDeg = t.Dec0,
        Naxis1 = _options.TileNaxis1, Naxis2 = _options.TileNaxis2, PixelScaleArcsec = _options.PixelScaleArcsec,
    };

    internal static DateTime Utc(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc);
}
