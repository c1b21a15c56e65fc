using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps.Registration;

/// <summary>What deleting superseded files did: files deleted and their bytes, and why others were kept or are still queued.</summary>
internal sealed record SupersededDeletion(int Files, long Bytes, IReadOnlyList<RegistrationFailure> Problems)
{
    public static SupersededDeletion None { get; } = new(0, 0, []);

    public static SupersededDeletion operator +(SupersededDeletion a, SupersededDeletion b) =>
        new(a.Files + b.Files, a.Bytes + b.Bytes, [.. a.Problems, .. b.Problems]);
}

/// <summary>
/// Deletes the files that registered stamped copies superseded, queued in <c>supersededfiles</c> by the batch that
/// registered the copies, so no product is stored twice. A queued file is deleted once its stamped copy is a registered
/// product and in the store with its registered size; never while a registered product names it, nor while its
/// post-processing job's source job is open again (a re-run may be writing the same keys), nor an injection-recovery
/// table while a recovery job of that night that may read it is open; and only under the prefix of the job that wrote it.
/// A copy missing or of the wrong size keeps its original for good (status <c>kept</c>, with the reason); a store that
/// refuses the deletion leaves it queued for the next try. The post-processing job's row counts the files and bytes
/// deleted; the file registry marks them deleted (<c>record_files_deleted</c>).
/// </summary>
internal sealed class SupersededProducts(IObjectStore store, ObjectKeys keys)
{
    /// <summary>Store requests at once.</summary>
    private const int StoreParallelism = 8;

    private sealed record Queued(string Uri, long Jid, long Owner, string OwnerProcDate, string Role, string Stamped, long SizeBytes, long StampedSize);

    /// <summary>
    /// Deletes what is queued for the post-processing jobs <paramref name="jids"/> (a registered batch's), or for every
    /// one of a date. Problems name the post-processing job that queued the file.
    /// </summary>
    public async Task<SupersededDeletion> DeletePendingAsync(NpgsqlConnection conn, IReadOnlyList<long>? jids, ProcessingDate? procDate, CancellationToken ct)
    {
        if (jids is { Count: 0 }) return SupersededDeletion.None;
        // The batch's jobs' queues through the partial index, driven by the list of jobs (a lateral lookup per job: joined
        // freely, the planner, whose statistics lag a night's inserts, scanned every pending row once per job), or a night's.
        // The recovery ppid is written into the statement, not bound: so the prepared statement's generic plan finds a
        // night's recovery job by its partial index (jobs_nightrecovery_key) instead of scanning every job once per
        // injection-recovery table.
        var (from, which) = jids is null
            ? ("supersededfiles s", "pp.procdate = @procdate")
            : ("unnest(@jids) as u(jid) cross join lateral (select * from supersededfiles q where q.jid = u.jid and q.status = 'pending' offset 0) s",
                "true");
        var queued = (await conn.QueryAsync<Queued>(new CommandDefinition($"""
            select s.uri, s.jid, s.owner, to_char(o.procdate, 'YYYYMMDD') as ownerprocdate, s.role, s.stamped, s.sizebytes,
                   c.sizebytes as stampedsize
            from {from}
            join jobs pp on pp.jid = s.jid
            join jobs src on src.jid = pp.parent_jid
            join jobs o on o.jid = s.owner
            join jobproducts c on c.filename = s.stamped
            where s.status = 'pending' and {which}
              and src.status = 1
              and not exists (select 1 from jobproducts r where r.filename = s.uri)
              and (s.role <> @injrecov or not exists (
                select 1 from jobs n where n.ppid = {PipelineIds.NightRecovery} and n.procdate = pp.procdate and n.status = 0))
            order by s.uri
            """,
            new { jids = jids?.ToArray(), procdate = procDate?.Date, injrecov = ProductRoles.InjectionRecovery },
            cancellationToken: ct))).ToList();

        // Each file is checked and deleted on its own (a few store requests each), several at once: S3 takes requests in parallel.
        var outcomes = new (string Uri, string? Status, string? Reason, RegistrationFailure? Problem)[queued.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, queued.Count), new ParallelOptions { MaxDegreeOfParallelism = StoreParallelism, CancellationToken = ct },
            async (i, token) => outcomes[i] = await DecideAsync(queued[i], token));
        var problems = outcomes.Select(o => o.Problem).OfType<RegistrationFailure>().ToList();
        var decided = outcomes.Where(o => o.Status is not null).Select(o => (o.Uri, Status: o.Status!, o.Reason)).ToList();
        if (decided.Count == 0) return new SupersededDeletion(0, 0, problems);

        // Only rows this call moved out of 'pending' count: two registrations of one manifest at once delete once.
        var counted = await conn.QuerySingleAsync<(int Files, long Bytes, int Recorded)>(new CommandDefinition("""
            with d as (
              update supersededfiles s set status = u.status, reason = u.reason, decided = now()
              from unnest(@uris, @statuses, @reasons) as u(uri, status, reason)
              where s.uri = u.uri and s.status = 'pending'
              returning s.uri, s.jid, s.status, s.sizebytes),
            n as (
              select jid, count(*)::int as files, sum(sizebytes)::bigint as bytes from d where status = 'deleted' group by jid),
            j as (
              update jobs set superseded_files = coalesce(superseded_files, 0) + n.files,
                              superseded_bytes = coalesce(superseded_bytes, 0) + n.bytes
              from n where jobs.jid = n.jid returning 1),
            f as (
              select record_files_deleted(coalesce(array_agg(uri), '{}'), 'superseded by its stamped copy') as recorded
              from d where status in ('deleted', 'gone'))
            select coalesce(sum(files), 0)::int, coalesce(sum(bytes), 0)::bigint, (select recorded from f) from n
            """,
            new
            {
                uris = decided.Select(d => d.Uri).ToArray(), statuses = decided.Select(d => d.Status).ToArray(),
                reasons = decided.Select(d => d.Reason).ToArray(),
            }, cancellationToken: ct));
        return new SupersededDeletion(counted.Files, counted.Bytes, problems);
    }

    /// <summary>
    /// One queued file: kept for good (not under its writer's prefix, its stamped copy missing or of the wrong size),
    /// gone already, deleted, or (the store refused) still queued: status null.
    /// </summary>
    private async Task<(string Uri, string? Status, string? Reason, RegistrationFailure? Problem)> DecideAsync(Queued q, CancellationToken ct)
    {
        var (original, stamped) = (ObjectRef.Parse(q.Uri), ObjectRef.Parse(q.Stamped));
        if (original == stamped
            || ManifestValidator.KeyProblem(original, keys.Buckets.Products, ObjectKeys.JobPrefix(ProcessingDate.Parse(q.OwnerProcDate), q.Owner)) is not null)
            return (q.Uri, "kept", $"{original} is not under the prefix of job {q.Owner}, which wrote it", null);
        try
        {
            var size = await StoredSizeAsync(stamped, ct);
            if (size != q.StampedSize)
            {
                var reason = size is null
                    ? $"{stamped} is registered but not in the store: {original} kept"
                    : $"{stamped} holds {size} bytes, its manifest says {q.StampedSize}: {original} kept";
                return (q.Uri, "kept", reason, new RegistrationFailure(q.Jid, reason));
            }
            if (!await store.ExistsAsync(original, ct)) return (q.Uri, "gone", null, null);
            await store.DeleteAsync(original, ct);
            return (q.Uri, "deleted", null, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Access denied, throttled, unreachable: still queued; the next registration of the job tries again.
            return (q.Uri, null, null, new RegistrationFailure(q.Jid, $"{original} not deleted, still queued: {e.Message}"));
        }
    }

    private async Task<long?> StoredSizeAsync(ObjectRef file, CancellationToken ct)
    {
        try { return await store.SizeAsync(file, ct); }
        catch (ObjectNotFoundException) { return null; }
    }
}
