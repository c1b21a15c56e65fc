using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps;

/// <summary>
/// Plans the reference-image jobs (ppid 12): one per (field, filter) of the window's best L2 images
/// that has no best reference image yet and at least MinReferenceInputs earlier images to co-add.
/// Pairs with fewer are not planned: their science jobs end with exit 33, as in the original.
/// </summary>
public sealed class PlanReferenceImages(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, PlanningOptions? options = null)
{
    private readonly PlanningOptions _options = options ?? new PlanningOptions();

    public async Task<PlanResult> PlanAsync(ObservationWindow window, ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var pairs = (await conn.QueryAsync<(long Field, short Fid)>("""
            select distinct l.field, l.fid
            from l2files l
            where l.dateobs >= @start and l.dateobs < @end and l.vbest > 0 and l.status > 0
              and not exists (select 1 from refimages r
                              where r.field = l.field and r.fid = l.fid and r.vbest > 0 and r.status > 0)
            order by 1, 2
            """, new { start = Utc(window.Start), end = Utc(window.End) }, tx)).ToList();
        var inputs = await ReferenceCandidates.FindAsync(conn, tx, pairs, window.Start, _options);
        var planned = inputs.Where(kv => kv.Value.Count >= _options.Pipeline.MinReferenceInputs).OrderBy(kv => kv.Key).ToList();

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
                fields = planned.Select(p => p.Key.Field).ToArray(),
                fids = planned.Select(p => p.Key.Fid).ToArray(),
            }, tx)).ToDictionary(j => (j.Field, j.Fid), j => j.Jid);
        var tiles = (await conn.QueryAsync<(long Field, double Ra0, double Dec0)>(
            "select field, ra0, dec0 from fields where field = any(@fields)",
            new { fields = planned.Select(p => p.Key.Field).Distinct().ToArray() }, tx)).ToDictionary(t => t.Field);

        var configs = planned.Select(p => new JobConfig
        {
            Jid = jobs[p.Key], ProcDate = procDate.ToString(),
            Spec = new ReferenceImageSpec { Tile = TileGridOf(tiles[p.Key.Field]), Inputs = p.Value },
            Settings = _options.Pipeline,
            SettingsProfile = _options.SettingsProfile,
        }).ToList();
        var writer = new JobPlanWriter(store, keys, _options);
        var list = await writer.WriteConfigsAsync(conn, tx, procDate, PipelineIds.ReferenceImage, configs, ct);
        await tx.CommitAsync(ct);
        return await writer.WriteListAsync(procDate, list, 0, ct);
    }

    private TileGrid TileGridOf((long Field, double Ra0, double Dec0) t) => new()
    {
        Field = t.Field, CenterRaDeg = t.Ra0, CenterDecDeg = t.Dec0,
        Naxis1 = _options.TileNaxis1, Naxis2 = _options.TileNaxis2, PixelScaleArcsec = _options.PixelScaleArcsec,
    };

    internal static DateTime Utc(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc);
}
