using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps.Registration;

/// <summary>A product file a registered stamped copy replaced: the original (or an earlier stamped copy) and the copy.</summary>
internal sealed record SupersededFile(string Role, string Original, long? OriginalStampedBy, string Stamped);

/// <summary>What deleting the superseded files of one post-processing job did.</summary>
internal sealed record SupersededDeletion(int Files, long Bytes, IReadOnlyList<string> Problems)
{
    public static SupersededDeletion None { get; } = new(0, 0, []);
}

/// <summary>
/// Deletes the files a post-processing job's stamped copies superseded, once those copies are registered (the batch
/// that registered them is committed) and verified (each is in the store with the size its manifest gives), so no
/// product is stored twice. It deletes only what the source job wrote under its own prefix, or an earlier stamped copy
/// under the prefix of the post-processing job that wrote it; nothing while the source job is open again (a re-run may be
/// writing the same keys), and no injection-recovery table while the night's recovery job that may read it is open (as
/// when it runs in the post-processing array). The post-processing job's row keeps the count and bytes deleted.
/// </summary>
internal sealed class SupersededProducts(IObjectStore store, ObjectKeys keys)
{
    public async Task<SupersededDeletion> DeleteAsync(NpgsqlConnection conn, ProductManifest m, PostProcessingOutcome outcome,
        IReadOnlyList<SupersededFile> files, CancellationToken ct)
    {
        if (files.Count == 0) return SupersededDeletion.None;
        var owners = files.Select(f => f.OriginalStampedBy ?? outcome.SourceJid).Append(outcome.SourceJid).Distinct().ToArray();
        var jobs = (await conn.QueryAsync<(long Jid, string ProcDate, short Status)>(new CommandDefinition(
            "select jid, to_char(procdate, 'YYYYMMDD'), status from jobs where jid = any(@owners)", new { owners }, cancellationToken: ct)))
            .ToDictionary(j => j.Jid);
        if (!jobs.TryGetValue(outcome.SourceJid, out var source) || source.Status != 1)
            return SupersededDeletion.None;
        var recoveryOpen = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from jobs where ppid = @ppid and procdate = to_date(@procdate, 'YYYYMMDD') and status = 0)",
            new { ppid = (short)PipelineIds.NightRecovery, procdate = source.ProcDate }, cancellationToken: ct));

        var problems = new List<string>();
        int deleted = 0;
        long bytes = 0;
        foreach (var f in files)
        {
            var (original, stamped) = (ObjectRef.Parse(f.Original), ObjectRef.Parse(f.Stamped));
            var owner = f.OriginalStampedBy ?? outcome.SourceJid;
            if (!jobs.TryGetValue(owner, out var made) || original == stamped || (recoveryOpen && f.Role == ProductRoles.InjectionRecovery)
                || ManifestValidator.KeyProblem(original, keys.Buckets.Products, ObjectKeys.JobPrefix(ProcessingDate.Parse(made.ProcDate), owner)) is not null)
                continue;
            var registered = outcome.Stamped.First(s => s.File == stamped).Checksum.SizeBytes;
            try
            {
                var size = await store.SizeAsync(stamped, ct);
                if (size != registered)
                {
                    problems.Add($"{stamped} holds {size} bytes, its manifest says {registered}: {original} kept");
                    continue;
                }
            }
            catch (ObjectNotFoundException)
            {
                problems.Add($"{stamped} is registered but not in the store: {original} kept");
                continue;
            }
            long bytesOfOriginal;
            try { bytesOfOriginal = await store.SizeAsync(original, ct); }
            catch (ObjectNotFoundException) { continue; }  // already gone
            await store.DeleteAsync(original, ct);
            deleted++;
            bytes += bytesOfOriginal;
        }
        if (deleted > 0)
            await conn.ExecuteAsync(new CommandDefinition("""
                update jobs set superseded_files = coalesce(superseded_files, 0) + @deleted, superseded_bytes = coalesce(superseded_bytes, 0) + @bytes
                where jid = @jid
                """, new { jid = m.Jid, deleted, bytes }, cancellationToken: ct));
        return new SupersededDeletion(deleted, bytes, problems);
    }
}
