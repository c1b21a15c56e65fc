using System.Text.Json;
using Dapper;
using Npgsql;
using Rapid.Core.Sky;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Functions.Steps;

/// <summary>
/// Ingests exposures and L2 files (the original had no operational ingest, only sims scripts).
/// One transaction for the whole batch; re-ingesting a file with the same checksum is a no-op;
/// a changed file of the same (exposure, SCA) becomes a new version and the best one.
/// </summary>
public sealed class RegisterSurveyImages(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<L2FileRegistered>> RegisterAsync(IReadOnlyList<L2FileRegistration> images, CancellationToken ct = default)
    {
        foreach (var img in images) Validate(img);
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

        var results = new List<L2FileRegistered>(images.Count);
        for (var i = 0; i < images.Count; i++)
        {
            var img = images[i];
            var fid = fids[img.Filter];
            var (thp6, thp9) = SkyRows.HealpixOf(img.Target.RaDeg, img.Target.DecDeg);
            var expid = await conn.ExecuteScalarAsync<long>("""
                insert into exposures (dateobs, mjdobs, field, fid, exptime, ra_targ, dec_targ, hp6, hp9)
                values (@DateObs, @MjdObs, @field, @fid, @ExpTime, @ra, @dec, @hp6, @hp9)
                on conflict (dateobs) do update set dateobs = excluded.dateobs
                returning expid
                """,
                new { DateObs = DateTime.SpecifyKind(img.DateObs, DateTimeKind.Utc), img.MjdObs, field = exposureFields[i], fid, img.ExpTime,
                      ra = img.Target.RaDeg, dec = img.Target.DecDeg, hp6 = thp6, hp9 = thp9 }, tx);
            var expFid = await conn.ExecuteScalarAsync<short>("select fid from exposures where expid = @expid", new { expid }, tx);
            if (expFid != fid)
                throw new ArgumentException($"{img.File}: filter {img.Filter} differs from the filter of exposure {expid} with the same DATE-OBS");

            var slot = await conn.QuerySingleAsync<(long? Rid, int Version, short Vbest)>(
                "select o_rid, o_version, o_vbest from l2file_slot(@expid, @sca, @md5)",
                new { expid, sca = (short)img.Sca, md5 = img.Md5 }, tx);
            if (slot.Rid is { } existing)
            {
                results.Add(new L2FileRegistered(existing, expid, slot.Version, slot.Vbest, imageFields[i], false));
                continue;
            }
            var (hp6, hp9) = SkyRows.HealpixOf(img.Center.RaDeg, img.Center.DecDeg);
            var w = img.Wcs;
            var rid = await conn.ExecuteScalarAsync<long>("""
                insert into l2files (expid, sca, version, vbest, field, fid, dateobs, mjdobs, exptime, infobits, filename, checksum, status,
                  naxis1, naxis2, ctype1, ctype2, crval1, crval2, crpix1, crpix2, cd1_1, cd1_2, cd2_1, cd2_2, sip,
                  ra_targ, dec_targ, pa_obsy, pa_fpa, zptmag, skymean, hp6, hp9)
                values (@expid, @sca, @version, @vbest, @field, @fid, @dateobs, @mjdobs, @exptime, @infobits, @filename, @checksum, 1,
                  @naxis1, @naxis2, @ctype1, @ctype2, @crval1, @crval2, @crpix1, @crpix2, @cd11, @cd12, @cd21, @cd22, @sip::jsonb,
                  @rat, @dect, @paobsy, @pafpa, @zptmag, @skymean, @hp6, @hp9)
                returning rid
                """,
                new
                {
                    expid, sca = (short)img.Sca, version = slot.Version, vbest = slot.Vbest, field = imageFields[i], fid,
                    dateobs = DateTime.SpecifyKind(img.DateObs, DateTimeKind.Utc), mjdobs = img.MjdObs, exptime = img.ExpTime, infobits = img.InfoBits,
                    filename = img.File.ToString(), checksum = img.Md5, naxis1 = img.Naxis1, naxis2 = img.Naxis2,
                    ctype1 = w.CType1, ctype2 = w.CType2, crval1 = w.CrVal1, crval2 = w.CrVal2, crpix1 = w.CrPix1, crpix2 = w.CrPix2,
                    cd11 = w.Cd11, cd12 = w.Cd12, cd21 = w.Cd21, cd22 = w.Cd22,
                    sip = w.Sip is null ? null : SipJson.Write(w.Sip),
                    rat = img.Target.RaDeg, dect = img.Target.DecDeg, paobsy = img.PaObsy, pafpa = img.PaFpa,
                    zptmag = img.ZptMag, skymean = img.SkyMean, hp6, hp9,
                }, tx);
            var (x, y, z) = SkyRows.UnitVector(img.Center.RaDeg, img.Center.DecDeg);
            var c = img.Corners;
            await conn.ExecuteAsync("""
                insert into l2filemeta (rid, ra0, dec0, ra1, dec1, ra2, dec2, ra3, dec3, ra4, dec4, x, y, z, fid, sca, mjdobs, field, hp6, hp9)
                values (@rid, @ra0, @dec0, @ra1, @dec1, @ra2, @dec2, @ra3, @dec3, @ra4, @dec4, @x, @y, @z, @fid, @sca, @mjdobs, @field, @hp6, @hp9)
                """,
                new
                {
                    rid, ra0 = img.Center.RaDeg, dec0 = img.Center.DecDeg,
                    ra1 = c[0].RaDeg, dec1 = c[0].DecDeg, ra2 = c[1].RaDeg, dec2 = c[1].DecDeg,
                    ra3 = c[2].RaDeg, dec3 = c[2].DecDeg, ra4 = c[3].RaDeg, dec4 = c[3].DecDeg,
                    x, y, z, fid, sca = (short)img.Sca, mjdobs = img.MjdObs, field = imageFields[i], hp6, hp9,
                }, tx);
            results.Add(new L2FileRegistered(rid, expid, slot.Version, slot.Vbest, imageFields[i], true));
        }
        await tx.CommitAsync(ct);
        return results;
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
