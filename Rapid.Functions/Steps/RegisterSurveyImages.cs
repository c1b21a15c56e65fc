using System.Text.Json;
using Dapper;
using Npgsql;
using Rapid.Core.Sky;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Functions.Steps;

/// <summary>
/// Ingests exposures and L2 files (the original had no operational ingest, only sims scripts).
/// One transaction for the whole batch; re-ingesting a file with the same checksum is a no-op;
/// a changed file of the same (exposure, SCA) becomes a new version and the best one (unless the best is
/// locked). Set-based at any size: the batch is copied into a temporary table (binary COPY) and registered
/// by a fixed handful of statements. New versions of an (exposure, SCA) are serialised by the exposure's
/// row lock, which PostgreSQL keeps in the row: a survey-scale batch (100,000 images) needs no more of the
/// shared lock table than one image, where one advisory lock per image ran it out of memory above ~13,000.
/// </summary>
public sealed class RegisterSurveyImages(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<L2FileRegistered>> RegisterAsync(IReadOnlyList<L2FileRegistration> images, CancellationToken ct = default)
    {
        foreach (var img in images) Validate(img);
        if (images.Count == 0) return [];
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var fids = (await conn.QueryAsync<(string Filter, short Fid)>("select filter, fid from filters", transaction: tx))
            .ToDictionary(r => r.Filter, r => r.Fid, StringComparer.OrdinalIgnoreCase);
        foreach (var img in images)
            if (!fids.ContainsKey(img.Filter))
                throw new ArgumentException($"{img.File}: filter '{img.Filter}' is not one of {string.Join(", ", fids.Keys.Order())}");

        var tiles = SkyTessellation.Roman;
        var imageFields = images.Select(i => tiles.FieldOf(i.Center.RaDeg, i.Center.DecDeg)).ToList();
        var exposureFields = images.Select(i => tiles.FieldOf(i.Target.RaDeg, i.Target.DecDeg)).ToList();
        await SkyRows.EnsureFieldsAsync(conn, tx, imageFields.Concat(exposureFields));

        await conn.ExecuteAsync(new CommandDefinition(CreateBatchTable, transaction: tx, cancellationToken: ct));
        await CopyAsync(conn, images, fids, imageFields, exposureFields, ct);

        // Exposures in DATE-OBS order: concurrent ingests of the same exposures lock their rows in the same order.
        await conn.ExecuteAsync(new CommandDefinition("""
            insert into exposures (dateobs, mjdobs, field, fid, exptime, ra_targ, dec_targ, hp6, hp9)
            select distinct on (dateobs) dateobs, mjdobs, expfield, fid, exptime, ra_targ, dec_targ, thp6, thp9
            from l2ingest order by dateobs, i
            on conflict (dateobs) do update set dateobs = excluded.dateobs
            """, transaction: tx, cancellationToken: ct));
        var clash = await conn.QueryFirstOrDefaultAsync<(int I, long Expid)?>(new CommandDefinition("""
            select b.i, e.expid from l2ingest b join exposures e on e.dateobs = b.dateobs
            where e.fid <> b.fid order by b.i limit 1
            """, transaction: tx, cancellationToken: ct));
        if (clash is { } c)
            throw new ArgumentException($"{images[c.I].File}: filter {images[c.I].Filter} differs from the filter of exposure {c.Expid} with the same DATE-OBS");

        await conn.ExecuteAsync(new CommandDefinition(RegisterFiles, transaction: tx, cancellationToken: ct));
        var rows = (await conn.QueryAsync<(int I, long Rid, long Expid, int Version, short Vbest, bool Inserted)>(new CommandDefinition("""
            select b.i, s.rid, s.expid, s.version, s.vbest, (s.old_rid is null and s.i = b.i) as inserted
            from l2ingest b join l2slots s on s.expid = b.expid and s.sca = b.sca and s.md5 = b.md5
            order by b.i
            """, transaction: tx, cancellationToken: ct))).ToList();
        await tx.CommitAsync(ct);
        return rows.Select(r => new L2FileRegistered(r.Rid, r.Expid, r.Version, r.Vbest, imageFields[r.I], r.Inserted)).ToList();
    }

    private const string CreateBatchTable = """
        create temp table l2ingest (
          i integer not null, dateobs timestamptz not null, mjdobs double precision not null, expfield bigint not null,
          fid smallint not null, exptime double precision not null, ra_targ double precision not null, dec_targ double precision not null,
          thp6 bigint not null, thp9 bigint not null, sca smallint not null, md5 text not null, field bigint not null,
          filename text not null, infobits integer not null, naxis1 integer not null, naxis2 integer not null,
          ctype1 text not null, ctype2 text not null, crval1 double precision not null, crval2 double precision not null,
          crpix1 double precision not null, crpix2 double precision not null, cd11 double precision not null,
          cd12 double precision not null, cd21 double precision not null, cd22 double precision not null, sip jsonb,
          pa_obsy double precision, pa_fpa double precision, zptmag double precision, skymean double precision,
          hp6 bigint not null, hp9 bigint not null,
          ra0 double precision not null, dec0 double precision not null, ra1 double precision not null, dec1 double precision not null,
          ra2 double precision not null, dec2 double precision not null, ra3 double precision not null, dec3 double precision not null,
          ra4 double precision not null, dec4 double precision not null, x double precision not null, y double precision not null,
          z double precision not null, expid bigint
        ) on commit drop
        """;

    /// <summary>
    /// The version rules of <c>l2file_slot</c>, for the whole batch at once: a file already registered with the same
    /// checksum keeps its row; new files of an (expid, sca) take the next versions in batch order, the last of them
    /// best unless the key's best is locked (vbest 2), and the previous best is demoted.
    /// </summary>
    private const string RegisterFiles = """
        update l2ingest b set expid = e.expid from exposures e where e.dateobs = b.dateobs;
        create temp table l2slots on commit drop as
        with firsts as (
          select distinct on (expid, sca, md5) * from l2ingest order by expid, sca, md5, i),
        found as (
          select f.*, x.rid as old_rid, x.version as old_version, x.vbest as old_vbest
          from firsts f left join lateral (
            select rid, version, vbest from l2files l where l.expid = f.expid and l.sca = f.sca and l.checksum = f.md5
            order by version desc limit 1) x on true),
        keys as (
          select l.expid, l.sca, max(l.version) as base, bool_or(l.vbest = 2) as locked
          from l2files l where (l.expid, l.sca) in (select expid, sca from found where old_rid is null)
          group by l.expid, l.sca),
        numbered as (
          select f.i, coalesce(k.locked, false) as locked,
                 coalesce(k.base, 0) + row_number() over w as new_version,
                 row_number() over w = count(*) over (partition by f.expid, f.sca) as last_new
          from found f left join keys k on k.expid = f.expid and k.sca = f.sca
          where f.old_rid is null
          window w as (partition by f.expid, f.sca order by f.i))
        select f.*, coalesce(n.locked, false) as locked, f.old_rid as rid,
               coalesce(f.old_version, n.new_version::integer) as version,
               coalesce(f.old_vbest, case when n.locked then 0 when n.last_new then 1 else 0 end)::smallint as vbest
        from found f left join numbered n on n.i = f.i;
        update l2files l set vbest = 0
        from (select distinct expid, sca from l2slots where old_rid is null and not locked) k
        where l.expid = k.expid and l.sca = k.sca and l.vbest = 1;
        with added as (
          insert into l2files (expid, sca, version, vbest, field, fid, dateobs, mjdobs, exptime, infobits, filename, checksum, status,
            naxis1, naxis2, ctype1, ctype2, crval1, crval2, crpix1, crpix2, cd1_1, cd1_2, cd2_1, cd2_2, sip,
            ra_targ, dec_targ, pa_obsy, pa_fpa, zptmag, skymean, hp6, hp9)
          select expid, sca, version, vbest, field, fid, dateobs, mjdobs, exptime, infobits, filename, md5, 1,
            naxis1, naxis2, ctype1, ctype2, crval1, crval2, crpix1, crpix2, cd11, cd12, cd21, cd22, sip,
            ra_targ, dec_targ, pa_obsy, pa_fpa, zptmag, skymean, hp6, hp9
          from l2slots where old_rid is null order by i
          returning rid, expid, sca, version)
        update l2slots s set rid = a.rid from added a where s.expid = a.expid and s.sca = a.sca and s.version = a.version and s.old_rid is null;
        insert into l2filemeta (rid, ra0, dec0, ra1, dec1, ra2, dec2, ra3, dec3, ra4, dec4, x, y, z, fid, sca, mjdobs, field, hp6, hp9)
        select rid, ra0, dec0, ra1, dec1, ra2, dec2, ra3, dec3, ra4, dec4, x, y, z, fid, sca, mjdobs, field, hp6, hp9
        from l2slots where old_rid is null;
        """;

    private static async Task CopyAsync(NpgsqlConnection conn, IReadOnlyList<L2FileRegistration> images, Dictionary<string, short> fids,
        IReadOnlyList<long> imageFields, IReadOnlyList<long> exposureFields, CancellationToken ct)
    {
        await using var copy = await conn.BeginBinaryImportAsync("""
            copy l2ingest (i, dateobs, mjdobs, expfield, fid, exptime, ra_targ, dec_targ, thp6, thp9, sca, md5, field, filename, infobits,
              naxis1, naxis2, ctype1, ctype2, crval1, crval2, crpix1, crpix2, cd11, cd12, cd21, cd22, sip, pa_obsy, pa_fpa, zptmag, skymean,
              hp6, hp9, ra0, dec0, ra1, dec1, ra2, dec2, ra3, dec3, ra4, dec4, x, y, z) from stdin (format binary)
            """, ct);
        for (var i = 0; i < images.Count; i++)
        {
            var img = images[i];
            var (thp6, thp9) = SkyRows.HealpixOf(img.Target.RaDeg, img.Target.DecDeg);
            var (hp6, hp9) = SkyRows.HealpixOf(img.Center.RaDeg, img.Center.DecDeg);
            var (x, y, z) = SkyRows.UnitVector(img.Center.RaDeg, img.Center.DecDeg);
            var w = img.Wcs;
            var corners = img.Corners;
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(i, NpgsqlTypes.NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(DateTime.SpecifyKind(img.DateObs, DateTimeKind.Utc), NpgsqlTypes.NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(img.MjdObs, NpgsqlTypes.NpgsqlDbType.Double, ct);
            await copy.WriteAsync(exposureFields[i], NpgsqlTypes.NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(fids[img.Filter], NpgsqlTypes.NpgsqlDbType.Smallint, ct);
            foreach (var v in new[] { img.ExpTime, img.Target.RaDeg, img.Target.DecDeg })
                await copy.WriteAsync(v, NpgsqlTypes.NpgsqlDbType.Double, ct);
            await copy.WriteAsync(thp6, NpgsqlTypes.NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(thp9, NpgsqlTypes.NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync((short)img.Sca, NpgsqlTypes.NpgsqlDbType.Smallint, ct);
            await copy.WriteAsync(img.Md5, NpgsqlTypes.NpgsqlDbType.Text, ct);
            await copy.WriteAsync(imageFields[i], NpgsqlTypes.NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(img.File.ToString(), NpgsqlTypes.NpgsqlDbType.Text, ct);
            await copy.WriteAsync(img.InfoBits, NpgsqlTypes.NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(img.Naxis1, NpgsqlTypes.NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(img.Naxis2, NpgsqlTypes.NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(w.CType1, NpgsqlTypes.NpgsqlDbType.Text, ct);
            await copy.WriteAsync(w.CType2, NpgsqlTypes.NpgsqlDbType.Text, ct);
            foreach (var v in new[] { w.CrVal1, w.CrVal2, w.CrPix1, w.CrPix2, w.Cd11, w.Cd12, w.Cd21, w.Cd22 })
                await copy.WriteAsync(v, NpgsqlTypes.NpgsqlDbType.Double, ct);
            if (w.Sip is null) await copy.WriteNullAsync(ct);
            else await copy.WriteAsync(SipJson.Write(w.Sip), NpgsqlTypes.NpgsqlDbType.Jsonb, ct);
            foreach (var v in new[] { img.PaObsy, img.PaFpa, img.ZptMag, img.SkyMean })
                if (v is { } value) await copy.WriteAsync(value, NpgsqlTypes.NpgsqlDbType.Double, ct);
                else await copy.WriteNullAsync(ct);
            await copy.WriteAsync(hp6, NpgsqlTypes.NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(hp9, NpgsqlTypes.NpgsqlDbType.Bigint, ct);
            foreach (var v in new[] { img.Center.RaDeg, img.Center.DecDeg, corners[0].RaDeg, corners[0].DecDeg, corners[1].RaDeg, corners[1].DecDeg,
                         corners[2].RaDeg, corners[2].DecDeg, corners[3].RaDeg, corners[3].DecDeg, x, y, z })
                await copy.WriteAsync(v, NpgsqlTypes.NpgsqlDbType.Double, ct);
        }
        await copy.CompleteAsync(ct);
    }

    private static void Validate(L2FileRegistration img)
    {
        string? problem =
            img.Sca is < 1 or > 18 ? $"SCA {img.Sca} is not in 1..18" :
            !(img.ExpTime > 0) ? $"EXPTIME {img.ExpTime} is not positive" :
            img.Corners.Count != 4 ? $"{img.Corners.Count} corners given, 4 expected" :
            string.IsNullOrWhiteSpace(img.Md5) ? "MD5 checksum is empty" :
            img.Naxis1 <= 0 || img.Naxis2 <= 0 ? $"image size {img.Naxis1}x{img.Naxis2} is not positive" :
            new[] { img.Center }.Concat(img.Corners).Append(img.Target).Any(p => !double.IsFinite(p.RaDeg) || p.DecDeg is < -90 or > 90 || !double.IsFinite(p.DecDeg))
                ? "a centre, corner or target position is not a valid RA/Dec" : null;
        if (problem is not null) throw new ArgumentException($"{img.File}: {problem}");
    }
}

/// <summary>SIP coefficients as the <c>l2files.sip</c> jsonb document (written without reflection).</summary>
internal static class SipJson
{
    public static string Write(SipCoefficients sip)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("a_order", sip.AOrder);
            w.WriteNumber("b_order", sip.BOrder);
            foreach (var (name, terms) in new[] { ("a", sip.A), ("b", sip.B) })
            {
                w.WriteStartObject(name);
                foreach (var (k, v) in terms.OrderBy(t => t.Key, StringComparer.Ordinal)) w.WriteNumber(k, v);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
