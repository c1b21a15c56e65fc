using Dapper;
using Npgsql;
using Rapid.Core.Storage;

namespace Rapid.Cli.Tests.Faults;

/// <summary>
/// The end state of a night, measured from the ops database and the object store after a fault (and, where the
/// fault needs one, a re-run of the night). Every count is of violations: all are zero for a night that survived.
/// </summary>
/// <param name="Jobs">Jobs of the database (for the report).</param>
/// <param name="OpenJobs">Jobs still open (status 0).</param>
/// <param name="DuplicateKeys">Natural keys with more than one row: a job per pipeline key and date, a product per key and date, an L2 file per checksum.</param>
/// <param name="KeysWithoutOneBest">Product keys (difference, reference, L2) without exactly one best version.</param>
/// <param name="ChecksumMismatches">Registered files missing from the store or differing from their registered size, SHA-256 or MD5.</param>
/// <param name="RevertedStamps">Products of a successfully post-processed job registered under another name than its stamped copy.</param>
/// <param name="DanglingLineage">Lineage rows (filederived, fileused) naming a file the files table does not hold, recorded
/// files and attempt steps naming a job attempt jobattempts does not hold, and products stamped by, or superseded files queued
/// by or for, a job that jobs does not hold: V017, V018 and V019 dropped their foreign keys for speed on the writers' word that
/// every id is read (files) or locked (attempts, jobs) in the same statement or transaction; this checks it.</param>
public sealed record NightState(int Jobs, int OpenJobs, int DuplicateKeys, int KeysWithoutOneBest, int ChecksumMismatches, int RevertedStamps,
    int DanglingLineage, int DifferenceImages, int ReferenceImages)
{
    public bool Survived => OpenJobs == 0 && DuplicateKeys == 0 && KeysWithoutOneBest == 0 && ChecksumMismatches == 0 && RevertedStamps == 0
        && DanglingLineage == 0;

    public override string ToString() =>
        $"{Jobs} jobs, {OpenJobs} open, {DuplicateKeys} duplicate keys, {KeysWithoutOneBest} keys without one best, " +
        $"{ChecksumMismatches} checksum mismatches, {RevertedStamps} reverted stamps, {DanglingLineage} dangling lineage rows; " +
        $"{ReferenceImages} reference and {DifferenceImages} difference images";

    public static async Task<NightState> MeasureAsync(NpgsqlDataSource db, DirectoryObjectStore store)
    {
        await using var conn = await db.OpenConnectionAsync();
        var jobs = await conn.ExecuteScalarAsync<int>("select count(*) from jobs");
        var open = await conn.ExecuteScalarAsync<int>("select count(*) from jobs where status = 0");
        var duplicates = await conn.ExecuteScalarAsync<int>("""
            select (select count(*) from (select 1 from jobs group by ppid, procdate, rid, field, fid, parent_jid having count(*) > 1) j)
                 + (select count(*) from (select 1 from diffimages d join jobs j on j.jid = d.jid group by d.rid, d.ppid, j.procdate having count(*) > 1) d)
                 + (select count(*) from (select 1 from refimages r join jobs j on j.jid = r.jid group by r.field, r.fid, r.ppid, j.procdate having count(*) > 1) r)
                 + (select count(*) from (select 1 from l2files group by expid, sca, checksum having count(*) > 1) l)
                 + (select count(*) from (select 1 from exposures group by dateobs having count(*) > 1) e)
            """);
        var withoutOneBest = await conn.ExecuteScalarAsync<int>("""
            select (select count(*) from (select 1 from diffimages group by rid, ppid having count(*) filter (where vbest > 0) <> 1) d)
                 + (select count(*) from (select 1 from refimages group by field, fid, ppid having count(*) filter (where vbest > 0) <> 1) r)
                 + (select count(*) from (select 1 from l2files group by expid, sca having count(*) filter (where vbest > 0) <> 1) l)
            """);

        // Every file the database names, with what it says of it (size and SHA-256 only where it keeps them).
        var files = (await conn.QueryAsync<(string File, long? Size, string? Sha256, string Md5)>("""
            select filename, sizebytes, sha256, md5 from jobproducts
            union all select filename, null, null, checksum from diffimages
            union all select filename, null, null, checksum from refimages
            union all select filename, null, null, checksum from refimcatalogs
            union all select filename, null, null, checksum from recoveryjobs
            union all select filename, null, null, checksum from nightrecovery
            """)).ToList();
        var mismatches = 0;
        var computed = new Dictionary<string, FileChecksum?>();
        foreach (var f in files)
        {
            if (!computed.TryGetValue(f.File, out var actual))
            {
                var path = store.PathOf(ObjectRef.Parse(f.File));
                computed[f.File] = actual = File.Exists(path) ? FileChecksum.Of(path) : null;
            }
            if (actual is null || actual.Md5 != f.Md5 || f.Size is { } size && size != actual.SizeBytes || f.Sha256 is { } sha && sha != actual.Sha256)
                mismatches++;
        }

        // A post-processing job that succeeded gave its parent's FITS products stamped names under its own prefix.
        var reverted = await conn.ExecuteScalarAsync<int>("""
            with stamped as (
              select p.jid as post, p.parent_jid as parent, to_char(p.procdate, 'YYYYMMDD') || '/jid' || p.jid || '/' as prefix
              from jobs p where p.ppid = 17 and p.status = 1 and p.exitcode between 0 and 63)
            select (select count(*) from stamped s join jobproducts jp on jp.jid = s.parent
                    where jp.filename like '%.fits' and position(s.prefix in jp.filename) = 0)
                 + (select count(*) from stamped s join diffimages d on d.jid = s.parent where position(s.prefix in d.filename) = 0)
                 + (select count(*) from stamped s join refimages r on r.jid = s.parent where position(s.prefix in r.filename) = 0)
            """);
        var dangling = await conn.ExecuteScalarAsync<int>("""
            select (select count(*) from filederived d where not exists (select 1 from files f where f.fileid = d.child)
                                                          or not exists (select 1 from files f where f.fileid = d.parent))
                 + (select count(*) from fileused u where not exists (select 1 from files f where f.fileid = u.fileid))
                 + (select count(*) from files f where f.jid is not null
                      and not exists (select 1 from jobattempts a where a.jid = f.jid and a.attempt = f.attempt))
                 + (select count(*) from attemptsteps s where not exists (select 1 from jobattempts a where a.jid = s.jid and a.attempt = s.attempt))
                 + (select count(*) from jobproducts p where p.stamped_by is not null and not exists (select 1 from jobs j where j.jid = p.stamped_by))
                 + (select count(*) from supersededfiles q where not exists (select 1 from jobs j where j.jid = q.jid))
                 + (select count(*) from supersededfiles q where not exists (select 1 from jobs j where j.jid = q.owner))
            """);
        var products = await conn.QuerySingleAsync<(int Diffs, int Refs)>("select (select count(*) from diffimages)::int, (select count(*) from refimages)::int");
        return new NightState(jobs, open, duplicates, withoutOneBest, mismatches, reverted, dangling, products.Diffs, products.Refs);
    }
}
