using System.Globalization;
using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Record;

namespace Rapid.Functions.Steps;

/// <summary>
/// The common tail of every plan step: write the job configs (in parallel) and record their keys on
/// the job rows inside the plan's transaction, then, after commit, the job list of the array. The plan's record (a new
/// attempt of every job, the files written and read: <see cref="PlanRecord"/>) is written in the same transaction.
/// </summary>
internal sealed class JobPlanWriter(IObjectStore store, ObjectKeys keys, PlanningOptions options)
{
    private readonly string _planId = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff", CultureInfo.InvariantCulture);

    public async Task<JobList> WriteConfigsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ProcessingDate procDate, int ppid,
        IReadOnlyList<JobConfig> configs, CancellationToken ct)
    {
        var entries = configs.Select(c => new JobListEntry(c.Jid, keys.JobConfig(procDate, c.Jid), keys.Manifest(procDate, c.Jid))).ToArray();
        // The SHA-256 of each config as written: registration accepts only a manifest of a run of exactly this config.
        var checksums = new FileChecksum[configs.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, configs.Count),
            new ParallelOptions { MaxDegreeOfParallelism = options.ConfigWriteParallelism, CancellationToken = ct },
            async (i, token) =>
            {
                var bytes = Contract.Serialize(configs[i]);
                checksums[i] = FileChecksum.Of(bytes);
                await store.PutBytesAsync(entries[i].Config, bytes, token);
            });
        var shas = checksums.Select(c => c.Sha256).ToArray();
        await conn.ExecuteAsync("""
            update jobs j set config_key = u.config, manifest_key = u.manifest, config_sha256 = u.sha
            from unnest(@jids, @configs, @manifests, @shas) as u(jid, config, manifest, sha)
            where j.jid = u.jid
            """,
            new
            {
                jids = entries.Select(e => e.Jid).ToArray(),
                configs = entries.Select(e => e.Config.ToString()).ToArray(),
                manifests = entries.Select(e => e.Manifest.ToString()).ToArray(),
                shas,
            }, tx);
        var list = new JobList { Ppid = ppid, ProcDate = procDate.ToString(), Jobs = entries };
        await RecordAsync(conn, tx, procDate, list, AttemptTriggers.Plan, ct,
            configs.Select((c, i) => new WrittenConfig(c, entries[i].Config, checksums[i])).ToList());
        return list;
    }

    /// <summary>
    /// Records, inside the plan's transaction, a new attempt of every job of <paramref name="list"/> (made by
    /// <paramref name="trigger"/>) at its entry of the list it will run from, the list's files and the configs written.
    /// </summary>
    public Task RecordAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ProcessingDate procDate, JobList list, string trigger,
        CancellationToken ct, IReadOnlyList<WrittenConfig>? configs = null)
    {
        var lists = Lists(procDate, list);
        // The Batch jobs run the chunks when there are any, else the whole list.
        var entries = lists.Skip(lists.Count > 1 ? 1 : 0)
            .SelectMany(l => l.List.Jobs.Select((job, index) => new PlannedEntry(job.Jid, l.Key, index))).ToList();
        return PlanRecord.RecordAsync(conn, tx, options.RunId, trigger, entries,
            lists.Select(l => (l.Key, FileChecksum.Of(Contract.Serialize(l.List)))).ToList(), configs ?? [], ct);
    }

    /// <summary>The plan's job list and, above the array limit, its chunks, with the keys they are written to.</summary>
    private IReadOnlyList<(ObjectRef Key, JobList List)> Lists(ProcessingDate procDate, JobList list)
    {
        if (list.Jobs.Count == 0) return [];
        var parts = new JobListChunker(options.MaxArraySize).Split(list);
        return [(keys.JobList(procDate, list.Ppid, _planId), list),
            .. parts.Select((part, i) => (keys.JobList(procDate, list.Ppid, $"{_planId}_chunk{i + 1:000}"), part))];
    }

    /// <summary>Written after commit: a job list never names a job row that does not exist.</summary>
    public async Task<PlanResult> WriteListAsync(ProcessingDate procDate, JobList list, int closedAtPlanning, CancellationToken ct)
    {
        if (list.Jobs.Count == 0)
            return new PlanResult { Ppid = list.Ppid, ProcDate = procDate.ToString(), ClosedAtPlanning = closedAtPlanning };
        // Above Batch's array limit the state machine runs chunks; the full list stays for registration.
        var lists = Lists(procDate, list);
        foreach (var (key, part) in lists) await Contract.WriteAsync(store, key, part, ct);
        var target = lists[0].Key;
        var chunks = lists.Skip(1).Select(l => new JobListChunk(l.Key, l.List.Jobs.Count)).ToList();
        return new PlanResult
        {
            Ppid = list.Ppid, ProcDate = procDate.ToString(), JobList = target, ArraySize = list.Jobs.Count, ClosedAtPlanning = closedAtPlanning,
            Chunks = chunks.Count > 0 ? chunks : null,
        };
    }
}
