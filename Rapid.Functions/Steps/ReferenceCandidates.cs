using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps;

/// <summary>
/// Earlier L2 images to co-add into the reference image of a (field, filter): best versions with good
/// status, observed before the window (or within <see cref="PlanningOptions.ReferenceInputsMjd"/>), whose centres lie
/// within a radius of the tile centre; nearest first, at most MaxReferenceInputs. Angular distance by unit-vector dot product (no q3c, so it also
/// runs on Amazon RDS), exact across RA 0/360 and at the poles; the z range only narrows the index scan.
/// </summary>
internal static class ReferenceCandidates
{
    public sealed record Tile(long Field, short Fid, double CenterRaDeg, double CenterDecDeg);

    public static async Task<Dictionary<(long Field, short Fid), List<L2Image>>> FindAsync(
        NpgsqlConnection conn, NpgsqlTransaction? tx, IReadOnlyCollection<(long Field, short Fid)> pairs,
        DateTime before, PlanningOptions options)
    {
        var result = pairs.Distinct().ToDictionary(p => p, _ => new List<L2Image>());
        if (result.Count == 0) return result;
        var rows = await conn.QueryAsync<Row>("""
            with pairs as (
              select u.field, u.fid, f.ra0, f.dec0,
                     cos(radians(f.dec0)) * cos(radians(f.ra0)) as tx,
                     cos(radians(f.dec0)) * sin(radians(f.ra0)) as ty,
                     sin(radians(f.dec0)) as tz
              from unnest(@fields, @fids) as u(field, fid) join fields f on f.field = u.field)
            select p.field as TileField, p.fid as TileFid, c.rid as Rid, c.expid as Expid, c.sca as Sca, c.field as Field,
                   c.mjdobs as MjdObs, c.exptime as ExpTime, c.filename as FileName, c.checksum as Md5, c.filter as Filter
            from pairs p
            cross join lateral (
              select l.rid, l.expid, l.sca, l.field, l.mjdobs, l.exptime, l.filename, l.checksum, flt.filter,
                     m.x * p.tx + m.y * p.ty + m.z * p.tz as cosd
              from l2filemeta m
              join l2files l on l.rid = m.rid
              join filters flt on flt.fid = l.fid
              where m.fid = p.fid and l.vbest > 0 and l.status > 0
                and (case when @mjdStart::float8 is null then l.dateobs < @before else l.mjdobs >= @mjdStart and l.mjdobs < @mjdEnd end)
                and m.z between sin(radians(greatest(p.dec0 - @radius, -90))) and sin(radians(least(p.dec0 + @radius, 90)))
                and m.x * p.tx + m.y * p.ty + m.z * p.tz >= cos(radians(@radius))
              order by cosd desc, l.rid
              limit @max) c
            order by p.field, p.fid, c.cosd desc, c.rid
            """,
            new
            {
                fields = result.Keys.Select(k => k.Field).ToArray(),
                fids = result.Keys.Select(k => k.Fid).ToArray(),
                before = DateTime.SpecifyKind(before, DateTimeKind.Utc),
                mjdStart = options.ReferenceInputsMjd?.Start, mjdEnd = options.ReferenceInputsMjd?.End,
                radius = options.ReferenceRadiusDeg,
                max = options.Pipeline.MaxReferenceInputs,
            }, tx);
        foreach (var r in rows)
            result[(r.TileField, r.TileFid)].Add(new L2Image
            {
                Rid = r.Rid, Expid = r.Expid, Sca = r.Sca, Fid = r.TileFid, Filter = r.Filter, Field = r.Field,
                MjdObs = r.MjdObs, ExpTime = r.ExpTime, File = ObjectRef.Parse(r.FileName), Md5 = r.Md5,
            });
        return result;
    }

    private sealed record Row(long TileField, short TileFid, long Rid, long Expid, short Sca, long Field,
        double MjdObs, double ExpTime, string FileName, string Md5, string Filter);
}
