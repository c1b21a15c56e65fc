using System.Text;
using Dapper;
using Npgsql;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Cli.Bench;

/// <summary>What <see cref="SyntheticNight"/> writes.</summary>
/// <param name="Images">Science images (one science job each), 18 SCAs per exposure.</param>
/// <param name="Fields">Sky tiles the exposures are spread over (two filters each).</param>
/// <param name="Slots">Jobs that ran at once (Batch's vCPUs / a job's vCPUs).</param>
/// <param name="FailedFraction">Science jobs that failed (exit 65, an unreadable input; their logs are written).</param>
/// <param name="LostFraction">Science jobs lost (exit 70, killed by signal 9).</param>
/// <param name="OpenFraction">Science jobs never closed.</param>
/// <param name="DegradedFraction">Science jobs that ended with a warning (exit 32).</param>
/// <param name="OutlierFraction">Difference images with a flux scale 4 × the zero points' prediction.</param>
public sealed record SyntheticNightSpec(
    int Images = 14_000, int Fields = 40, int Slots = 256, int Seed = 1, double FailedFraction = 0.002, double LostFraction = 0.001,
    double OpenFraction = 0.0005, double DegradedFraction = 0.01, double OutlierFraction = 0.002);

/// <summary>
/// A night's worth of ops-database rows written straight into the database, no pipeline run: exposures and L2 images,
/// reference, science, post-processing and night-recovery jobs with their times, difference images and their metadata,
/// injection-recovery figures, product files, warnings, and failures with their logs in the object store. For measuring
/// what reads a night (the night report) at survey scale: a 14,000-image night is one transaction of set-based inserts.
/// Nothing is written to the object store but the failed jobs' logs (products are rows only).
/// </summary>
public static class SyntheticNight
{
    /// <summary>Writes the night and returns the number of jobs made.</summary>
    public static async Task<int> CreateAsync(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, ProcessingDate procDate,
        SyntheticNightSpec spec, CancellationToken ct = default)
    {
        if (spec.Images < 1) throw new ArgumentOutOfRangeException(nameof(spec), spec.Images, "--images: must be at least 1");
        var tiles = SkyTessellation.Roman.FieldsWithin(150, 2, 3).Take(spec.Fields).Select(SkyTessellation.Roman.Tile).ToList();
        var night = procDate.Date.ToDateTime(new TimeOnly(3, 0), DateTimeKind.Utc);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await SkyRows.EnsureFieldsAsync(conn, tx, tiles.Select(t => t.Field));
        var args = new
        {
            procdate = procDate.Date, n = spec.Images, seed = (spec.Seed % 1000) / 1000.0, fields = tiles.Select(t => t.Field).ToArray(),
            t0 = night, slots = spec.Slots, pfail = spec.FailedFraction, plost = spec.LostFraction, popen = spec.OpenFraction,
            pdegraded = spec.DegradedFraction, poutlier = spec.OutlierFraction, prefix = $"s3://{keys.Buckets.Products}/{procDate}/",
            datafile = $"s3://{keys.Buckets.Data}/synthetic/{procDate}/",
        };
        await conn.ExecuteAsync(new CommandDefinition(Script, args, tx, commandTimeout: 600, cancellationToken: ct));
        var failed = (await conn.QueryAsync<(long Jid, long Rid, int ExitCode, string Reason)>(new CommandDefinition(
            "select jid, rid, exitcode, reason from jobs where procdate = @procdate and ppid = 15 and exitcode >= 64 order by jid",
            new { procdate = procDate.Date }, tx, cancellationToken: ct))).ToList();
        var jobs = await conn.ExecuteScalarAsync<int>(new CommandDefinition("select count(*) from jobs where procdate = @procdate",
            new { procdate = procDate.Date }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        foreach (var f in failed.Where(f => f.ExitCode != 70))
            await store.PutBytesAsync(keys.Log(procDate, f.Jid), Encoding.UTF8.GetBytes(Log(f.Jid, f.Rid, f.Reason)), ct);
        return jobs;
    }

    private static string Log(long jid, long rid, string reason) => string.Join('\n',
        $"2028-09-08T03:20:00Z jid {jid} ppid 15 science rid {rid}: started",
        "2028-09-08T03:20:00Z step science.download",
        "2028-09-08T03:20:02Z step science.calibrate",
        $"2028-09-08T03:20:02Z error: {reason}",
        "2028-09-08T03:20:02Z exit 65 (invalid input)") + "\n";

    // Set-based: one statement per table, rows drawn with random() after setseed, so the same seed gives the same night.
    // normal(): Box-Muller (PostgreSQL 15 has no random_normal()).
    private const string Script = """
        select setseed(@seed);
        create temporary table synth_fields on commit drop as
          select (row_number() over (order by field) - 1)::int as idx, field, ra0, dec0, hp6, hp9 from fields where field = any(@fields);
        create temporary table synth_exposures on commit drop as
          with e as (select g - 1 as e from generate_series(1, (@n + 17) / 18) g)
          select e.e, f.field, f.ra0, f.dec0, f.hp6, f.hp9, (1 + e.e % 2)::smallint as fid,
                 @t0::timestamptz - interval '30 hours' + e.e * interval '90 seconds' as dateobs
          from e join synth_fields f on f.idx = (e.e / 2) % (select count(*) from synth_fields);
        insert into exposures (dateobs, mjdobs, field, fid, exptime, ra_targ, dec_targ, hp6, hp9)
        select dateobs, 40587 + extract(epoch from dateobs) / 86400, field, fid, 139.8, ra0, dec0, hp6, hp9 from synth_exposures;
        create temporary table synth_images on commit drop as
          select x.expid, x.field, x.fid, x.dateobs, x.ra0 + 0.13 * ((s.sca - 1) % 6 - 2.5) as ra, x.dec0 + 0.13 * ((s.sca - 1) / 6 - 1) as dec,
                 x.hp6, x.hp9, s.sca::smallint as sca, row_number() over (order by x.expid, s.sca) as k
          from (select e.*, x.expid from synth_exposures e join exposures x on x.dateobs = e.dateobs) x
          cross join generate_series(1, 18) s(sca);
        delete from synth_images where k > @n;
        insert into l2files (expid, sca, version, vbest, field, fid, dateobs, mjdobs, exptime, filename, checksum, naxis1, naxis2,
                             ctype1, ctype2, crval1, crval2, crpix1, crpix2, cd1_1, cd1_2, cd2_1, cd2_2, zptmag, skymean, hp6, hp9)
        select expid, sca, 1, 1, field, fid, dateobs, 40587 + extract(epoch from dateobs) / 86400, 139.8,
               @datafile || 'L2_' || expid || '_sca' || sca || '.fits', md5(expid || ':' || sca), 4088, 4088,
               'RA---TAN-SIP', 'DEC--TAN-SIP', ra, dec, 2044.5, 2044.5, -3.0556e-5, 0, 0, 3.0556e-5, 26.3 + 0.05 * random(), 1.2, hp6, hp9
        from synth_images;
        insert into l2filemeta (rid, ra0, dec0, ra1, dec1, ra2, dec2, ra3, dec3, ra4, dec4, x, y, z, fid, sca, mjdobs, field, hp6, hp9)
        select rid, crval1, crval2, crval1 - 0.0625, crval2 - 0.0625, crval1 + 0.0625, crval2 - 0.0625, crval1 + 0.0625, crval2 + 0.0625,
               crval1 - 0.0625, crval2 + 0.0625, cos(radians(crval2)) * cos(radians(crval1)), cos(radians(crval2)) * sin(radians(crval1)),
               sin(radians(crval2)), fid, sca, mjdobs, field, hp6, hp9
        from l2files where filename like @datafile || '%';

        -- References: one job per field and filter, in the first minutes of the night.
        insert into jobs (ppid, procdate, field, fid, status, exitcode, launched, started, ended, elapsed, cpu_seconds, peak_memory_bytes, host)
        select 12, @procdate, field, fid, 1, 0, t, t + interval '5 s', t + interval '5 s' + d * interval '1 s', d, 1.6 * d, 2.9e9, 'synthetic'
        from (select distinct field, fid from l2files where filename like @datafile || '%') r,
             lateral (select @t0::timestamptz + (random() + 0 * r.fid) * interval '4 minutes' as t, 60 + 40 * random() + 0 * r.fid as d) x;
        insert into refimages (field, fid, ppid, version, vbest, jid, filename, checksum, hp6, hp9)
        select j.field, j.fid, 12, 1, 1, j.jid, @prefix || 'jid' || j.jid || '/rapid_field' || j.field || '_fid' || j.fid || '_refimage.fits', md5(j.jid::text), f.hp6, f.hp9
        from jobs j join fields f on f.field = j.field where j.procdate = @procdate and j.ppid = 12;
        insert into refimmeta (rfid, nframes, medncov, fwhmmed, nsexcatsources)
        select r.rfid, 9, 8.5, 1.8, 4000 from refimages r join jobs j on j.jid = r.jid where j.procdate = @procdate;

        -- Science: one job per image, started as slots free up, outcomes drawn.
        create temporary table synth_science on commit drop as
          select l.rid, l.expid, l.sca, l.field, l.fid, l.mjdobs, l.zptmag, row_number() over (order by l.rid) - 1 as k, random() as u,
                 12 + 14 * random() + case when random() < 0.01 then 60 * random() else 0 end as d
          from l2files l where l.filename like @datafile || '%';
        insert into jobs (ppid, procdate, rid, expid, sca, field, fid, rfid, status, exitcode, reason, launched, started, ended, elapsed,
                          cpu_seconds, peak_memory_bytes, host)
        select 15, @procdate, s.rid, s.expid, s.sca, s.field, s.fid, r.rfid,
               case when s.u < @popen then 0 else 1 end,
               case when s.u < @popen then null when s.u < @popen + @pfail then 65 when s.u < @popen + @pfail + @plost then 70
                    when s.u < @popen + @pfail + @plost + @pdegraded then 32 else 0 end,
               case when s.u < @popen then null
                    when s.u < @popen + @pfail then 'rid ' || s.rid || ': ' || @datafile || 'L2_' || s.expid || '_sca' || s.sca || '.fits: truncated: the header of HDU 1 ends before its END card'
                    when s.u < @popen + @pfail + @plost then 'killed by signal 9'
                    when s.u < @popen + @pfail + @plost + @pdegraded then 'psf: too few bright isolated stars (' || (3 + s.k % 5) || '); a Gaussian of the measured FWHM' end,
               t, t + interval '3 s', case when s.u < @popen then null else t + interval '3 s' + s.d * interval '1 s' end,
               case when s.u < @popen then null else s.d end, 1.5 * s.d, (2.2 + 0.4 * random()) * 1e9, 'synthetic'
        from synth_science s
        join refimages r on r.field = s.field and r.fid = s.fid and r.vbest = 1,
        lateral (select @t0::timestamptz + interval '6 minutes' + (s.k / @slots) * interval '22 s' + (random() + 0 * s.k) * interval '6 s' as t) x;
        insert into jobwarnings (jid, seq, kind, message)
        select jid, 0, 'psf', reason from jobs where procdate = @procdate and ppid = 15 and exitcode = 32;
        insert into diffimages (rid, expid, sca, ppid, version, vbest, rfid, jid, field, fid, mjdobs, ra0, dec0, filename, checksum, hp6, hp9)
        select j.rid, j.expid, j.sca, 15, 1, 1, j.rfid, j.jid, j.field, j.fid, l.mjdobs, m.ra0, m.dec0,
               @prefix || 'jid' || j.jid || '/rapid_rid' || j.rid || '_diffimage.fits', md5(j.jid::text), l.hp6, l.hp9
        from jobs j join l2files l on l.rid = j.rid join l2filemeta m on m.rid = j.rid
        where j.procdate = @procdate and j.ppid = 15 and j.exitcode in (0, 32);
        insert into diffimmeta (pid, nsources, npositive, nnegative, scalefacref, dxrmsfin, dyrmsfin, dxmedianfin, dymedianfin, bkgsci, bkgref,
                                fwhmsci, fwhmref, field, fid, sca)
        select d.pid, n, n * 2 / 3, n - n * 2 / 3,
               power(10, -0.4 * (17 - l.zptmag)) * (case when random() < @poutlier then 4 else 1 + 0.01 * z1 end),
               0.03 + 0.01 * random(), 0.03 + 0.01 * random(), 0.002 * z2, 0.002 * z1, 1.2, 0.01,
               case when d.fid = 1 then 1.95 else 1.75 end + 0.05 * z2 + case when random() < @poutlier then 1.2 else 0 end, 1.8, d.field, d.fid, d.sca
        from diffimages d join jobs j on j.jid = d.jid join l2files l on l.rid = d.rid,
        lateral (select (30 + 170 * random() + 0 * d.pid)::int as n,
                        sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) + 0 * d.pid as z1,
                        sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) + 0 * d.pid as z2) x
        where j.procdate = @procdate;
        insert into recoveryjobs (jid, pid, rid, fid, procdate, seed, brightmag, faintmag, maglimit, psffwhm, psfsource, matchradius,
                                  npositive, nunmatched, areadeg2, nmasked, filename, checksum, ended)
        select j.jid, d.pid, d.rid, d.fid, @procdate, j.jid, 23.1, 26.6, 25.6, 1.8, 'science', 1.0, m.npositive,
               least(m.npositive, (random() * 0.15 * m.npositive)::int), 0.0164, (random() * 2)::int,
               @prefix || 'jid' || j.jid || '/injrecov.fits', md5('r' || j.jid), j.ended
        from jobs j join diffimages d on d.jid = j.jid join diffimmeta m on m.pid = d.pid where j.procdate = @procdate;
        insert into recoveryfigures (jid, kind, ninjected, nfound, mag50, mag90, fluxbias)
        select jid, 'fake', 50, least(50, greatest(0, (36 + 8 * (random() - 0.5))::int)),
               case when fid = 1 then 25.3 else 25.0 end + 0.15 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()), null,
               0.01 * (random() - 0.5)
        from recoveryjobs where procdate = @procdate;

        -- Post-processing of every product-making job, then the night recovery job.
        insert into jobs (ppid, procdate, parent_jid, status, exitcode, launched, started, ended, elapsed, cpu_seconds, peak_memory_bytes, host)
        select 17, @procdate, j.jid, 1, 0, t, t + interval '2 s', t + interval '2 s' + d * interval '1 s', d, 0.8 * d, 4e8, 'synthetic'
        from (select j.*, row_number() over (order by j.jid) as k from jobs j
              where j.procdate = @procdate and j.ppid in (12, 15) and j.exitcode in (0, 32)) j,
             lateral (select 2 + 3 * random() + 0 * j.jid as d,
                             @t0::timestamptz + interval '40 minutes' + (j.k / (4 * @slots)) * interval '5 s' as t) x;
        insert into jobs (ppid, procdate, status, exitcode, launched, started, ended, elapsed, cpu_seconds, peak_memory_bytes, host)
        select 18, @procdate, 1, 0, t, t + interval '2 s', t + interval '32 s', 30, 28, 1.5e9, 'synthetic'
        from (select max(ended) as t from jobs where procdate = @procdate and ppid = 17) x;
        insert into nightrecovery (procdate, jid, ntables, filename, checksum, ended)
        select @procdate, jid, (select count(*) from recoveryjobs where procdate = @procdate), @prefix || 'jid' || jid || '/rapid_injrecov.fits', md5('n'), ended
        from jobs where procdate = @procdate and ppid = 18;
        insert into nightrecoveryfigures (procdate, fid, kind, nimages, ninjected, nfound, mag50, mag90, fluxbias, nunmatched, areadeg2, falseposdeg2)
        select @procdate, r.fid, 'fake', count(*), sum(f.ninjected), sum(f.nfound), percentile_cont(0.5) within group (order by f.mag50),
               percentile_cont(0.5) within group (order by f.mag50) - 0.8, 0.004, sum(r.nunmatched), sum(r.areadeg2), sum(r.nunmatched) / sum(r.areadeg2)
        from recoveryjobs r join recoveryfigures f on f.jid = r.jid where r.procdate = @procdate group by r.fid;
        insert into nightrecoverybins (procdate, fid, kind, maglow, maghigh, ninjected, nfound, completeness, fluxbias)
        select @procdate, n.fid, 'fake', m, m + 0.25, b.inj, (b.inj * c)::int, (b.inj * c)::int / b.inj::double precision, 0.003 + 0.02 * greatest(0, m - 24.5)
        from nightrecoveryfigures n, generate_series(23.0, 26.75, 0.25) m,
             lateral (select 1 / (1 + exp((m + 0.125 - n.mag50) / 0.25)) as c, greatest(1, n.ninjected / 16) as inj) b
        where n.procdate = @procdate;

        -- Products: the files each job's manifest would list.
        insert into jobproducts (jid, role, filename, sizebytes, sha256, md5)
        select j.jid, p.role, @prefix || 'jid' || j.jid || '/rapid_rid' || j.rid || '_' || p.role || '.fits', p.size, md5(j.jid || p.role) || md5(p.role), md5(j.jid || p.role)
        from jobs j, (values ('diffimage', 66853440), ('diffimage_uncert', 66853440), ('scorr', 66853440), ('diffpsf', 20160),
                             ('refimage_resampled', 66853440), ('sources', 40320), ('injrecov', 14400)) p(role, size)
        where j.procdate = @procdate and j.ppid = 15 and j.exitcode in (0, 32);
        insert into jobproducts (jid, role, filename, sizebytes, sha256, md5)
        select j.jid, p.role, @prefix || 'jid' || j.jid || '/rapid_field' || j.field || '_fid' || j.fid || '_' || p.role || '.fits', p.size,
               md5(j.jid || p.role) || md5(p.role), md5(j.jid || p.role)
        from jobs j, (values ('refimage', 196000000), ('refimage_cov', 196000000), ('refimage_uncert', 196000000), ('refimage_catalog', 480000)) p(role, size)
        where j.procdate = @procdate and j.ppid = 12;
        insert into jobproducts (jid, role, filename, sizebytes, sha256, md5)
        select jid, 'night_injrecov', @prefix || 'jid' || jid || '/rapid_injrecov.fits', 60 * 14400, md5('n') || md5('n'), md5('n')
        from jobs where procdate = @procdate and ppid = 18;
        """;
}
