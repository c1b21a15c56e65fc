using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;

namespace Rapid.Functions.Record;

/// <summary>Where a planned job runs: the job list its Batch job reads (a chunk's, when the plan is chunked) and its entry there.</summary>
public sealed record PlannedEntry(long Jid, ObjectRef JobList, int Index);

/// <summary>A job config as the plan wrote it.</summary>
public sealed record WrittenConfig(JobConfig Config, ObjectRef Key, FileChecksum Checksum);

/// <summary>
/// What a plan records, inside its transaction: a new attempt of every planned job (with its 'planned' state), the files
/// it writes (job configs, job lists) and the files each attempt will read (OPM used: its config and its inputs).
/// </summary>
internal static class PlanRecord
{
    public static async Task RecordAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long? runId, string trigger,
        IReadOnlyList<PlannedEntry> entries, IReadOnlyList<(ObjectRef Key, FileChecksum Checksum)> lists, IReadOnlyList<WrittenConfig> configs,
        CancellationToken ct)
    {
        if (entries.Count == 0) return;
        var attempts = (await conn.QueryAsync<(long Jid, int Attempt)>(new CommandDefinition(
            "select o_jid, o_attempt from begin_attempts(@runId, @trigger, @jids, @lists, @indexes)",
            new
            {
                runId, trigger, jids = entries.Select(e => e.Jid).ToArray(), lists = entries.Select(e => e.JobList.ToString()).ToArray(),
                indexes = entries.Select(e => e.Index).ToArray(),
            }, tx, cancellationToken: ct))).ToList();

        var written = configs.Select(c => (c.Key, c.Checksum, Kind: FileKinds.Config))
            .Concat(lists.Select(l => (l.Key, l.Checksum, Kind: FileKinds.JobList))).ToList();
        var inputs = configs.SelectMany(c => JobInputs.Of(c.Config.Spec).Select(i => (c.Config.Jid, Input: i))).ToList();
        var uses = configs.Select(c => (c.Config.Jid, Uri: c.Key.ToString(), Role: JobInputs.Config))
            .Concat(inputs.Select(i => (i.Jid, Uri: i.Input.File.ToString(), i.Input.Role))).ToList();
        var known = inputs.Select(i => i.Input).DistinctBy(i => i.File).ToList();
        await conn.ExecuteAsync(new CommandDefinition("""
            update files f set status = 'overwritten', statuschanged = now(), statusreason = 'written again with other content'
            from unnest(@wUris, @wShas) as u(uri, sha) where f.uri = u.uri and f.status = 'kept' and f.sha256 is distinct from u.sha;
            insert into files (uri, kind, sizebytes, sha256, md5, runid)
            select u.uri, u.kind, u.size, u.sha, u.md5, @runId from unnest(@wUris, @wKinds, @wSizes, @wShas, @wMd5s) as u(uri, kind, size, sha, md5)
            on conflict (uri) where status = 'kept' do nothing;
            insert into files (uri, kind, role, md5, rid)
            select * from unnest(@iUris, @iKinds, @iRoles, @iMd5s, @iRids)
            on conflict (uri) where status = 'kept' do nothing;
            insert into fileused (jid, attempt, fileid, role)
            select u.jid, a.attempt, f.fileid, u.role
            from unnest(@uJids, @uUris, @uRoles) as u(jid, uri, role)
            join files f on f.uri = u.uri and f.status = 'kept'
            join unnest(@aJids, @aAttempts) as a(jid, attempt) on a.jid = u.jid
            on conflict do nothing
            """,
            new
            {
                runId,
                wUris = written.Select(w => w.Key.ToString()).ToArray(), wKinds = written.Select(w => w.Kind).ToArray(),
                wSizes = written.Select(w => w.Checksum.SizeBytes).ToArray(), wShas = written.Select(w => w.Checksum.Sha256).ToArray(),
                wMd5s = written.Select(w => w.Checksum.Md5).ToArray(),
                iUris = known.Select(i => i.File.ToString()).ToArray(), iKinds = known.Select(i => i.Kind).ToArray(),
                iRoles = known.Select(i => i.Kind == FileKinds.Product ? i.Role : null).ToArray(),
                iMd5s = known.Select(i => i.Md5).ToArray(), iRids = known.Select(i => i.Rid).ToArray(),
                aJids = attempts.Select(a => a.Jid).ToArray(), aAttempts = attempts.Select(a => a.Attempt).ToArray(),
                uJids = uses.Select(u => u.Jid).ToArray(), uUris = uses.Select(u => u.Uri).ToArray(), uRoles = uses.Select(u => u.Role).ToArray(),
            }, tx, cancellationToken: ct));
    }
}
