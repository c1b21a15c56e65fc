using System.Globalization;
using System.Security.Cryptography;
using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps;

/// <summary>
/// The common tail of every plan step: write the job configs (in parallel) and record their keys on
/// the job rows inside the plan's transaction, then, after commit, the job list of the array.
/// </summary>
internal sealed class JobPlanWriter(IObjectStore store, ObjectKeys keys, PlanningOptions options)
{
    public async Task<JobList> WriteConfigsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ProcessingDate procDate, int ppid,
        IReadOnlyList<JobConfig> configs, CancellationToken ct)
    {
        var entries = configs.Select(c => new JobListEntry(c.Jid, keys.JobConfig(procDate, c.Jid), keys.Manifest(procDate, c.Jid))).ToArray();
        // The SHA-256 of each config as written: registration accepts only a manifest of a run of exactly this config.
        var shas = new string[configs.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, configs.Count),
            new ParallelOptions { MaxDegreeOfParallelism = options.ConfigWriteParallelism, CancellationToken = ct },
            async (i, token) =>
            {
                var bytes = Contract.Serialize(configs[i]);
                shas[i] = Convert.ToHexStringLower(SHA256.HashData(bytes));
                await store.PutBytesAsync(entries[i].Config, bytes, token);
            });
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
        return new JobList { Ppid = ppid, ProcDate = procDate.ToString(), Jobs = entries };
    }

    /// <summary>Written after commit: a job list never names a job row that does not exist.</summary>
    public async Task<PlanResult> WriteListAsync(ProcessingDate procDate, JobList list, int closedAtPlanning, CancellationToken ct)
    {
        if (list.Jobs.Count == 0)
            return new PlanResult { Ppid = list.Ppid, ProcDate = procDate.ToString(), ClosedAtPlanning = closedAtPlanning };
        var planId = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff", CultureInfo.InvariantCulture);
        var target = keys.JobList(procDate, list.Ppid, planId);
        await Contract.WriteAsync(store, target, list, ct);
        // Above Batch's array limit the state machine runs chunks; the full list stays for registration.
        var chunks = new List<JobListChunk>();
        var parts = new JobListChunker(options.MaxArraySize).Split(list);
        for (var i = 0; i < parts.Count; i++)
        {
            var chunkTarget = keys.JobList(procDate, list.Ppid, $"{planId}_chunk{i + 1:000}");
            await Contract.WriteAsync(store, chunkTarget, parts[i], ct);
            chunks.Add(new JobListChunk(chunkTarget, parts[i].Jobs.Count));
        }
        return new PlanResult
        {
            Ppid = list.Ppid, ProcDate = procDate.ToString(), JobList = target, ArraySize = list.Jobs.Count, ClosedAtPlanning = closedAtPlanning,
            Chunks = chunks.Count > 0 ? chunks : null,
        };
    }
}
