using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps.Registration;

/// <summary>
/// ppid 17: the stamped, renamed copies replace the registered file names and checksums of the source job's products
/// (<c>jobproducts</c>, marked <c>stamped_by</c> this job, and <c>refimages</c>, <c>refimcatalogs</c>, <c>diffimages</c>,
/// <c>recoveryjobs</c>). A product is replaced only while it is still the file that was stamped: when the source job
/// was planned again since post-processing was planned (its re-run writes the same keys, so the names alone cannot
/// tell), or registered other files, the stale copies are not registered, the new products stay unstamped and the next
/// plan stamps them. The files the stamped copies superseded are queued in
/// <c>supersededfiles</c> in the same batch; <see cref="SupersededProducts"/> deletes them once the batch is committed.
/// </summary>
internal sealed class PostProcessingRegistrar : JobRegistrar<PostProcessingOutcome>
{
    public override int Ppid => PipelineIds.PostProcessing;

    protected override ManifestViolation? Validate(ProductManifest m, PostProcessingOutcome outcome, ObjectKeys keys)
    {
        if (outcome.SourceJid <= 0) return new("outcome.sourceJid", $"{outcome.SourceJid} is not a job id");
        var prefix = ObjectKeys.JobPrefix(ProcessingDate.Parse(m.ProcDate), m.Jid);
        var roles = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < outcome.Stamped.Count; i++)
        {
            var s = outcome.Stamped[i];
            if (!ProductRoles.All.Contains(s.Role)) return new($"outcome.stamped[{i}].role", $"'{s.Role}' is not a product role");
            if (!roles.Add(s.Role)) return new($"outcome.stamped[{i}].role", $"'{s.Role}' is listed twice");
            if (ManifestValidator.ProductFileProblem(new ProductFile(s.Role, s.File, s.Checksum), keys, prefix) is { } problem)
                return new($"outcome.stamped[{i}].{problem.Field}", problem.Problem);
            if (s.Source is { } source && source.Bucket != keys.Buckets.Products)
                return new($"outcome.stamped[{i}].source", $"{source} is not in the bucket {keys.Buckets.Products}");
        }
        return null;
    }

    protected override JobExpectations Expect(PostProcessingOutcome outcome) => new() { ParentJid = outcome.SourceJid };

    protected override RegisteredCounts Count(PostProcessingOutcome outcome) => new(StampedProducts: outcome.Stamped.Count);

    // Its own job's row and (empty) product list are the common statements; the stamped copies are registered set-based.
    protected override void AddStatements(RegistrationBatch batch, ProductManifest m, PostProcessingOutcome outcome)
    {
    }

    protected override void AddBatchStatements(RegistrationBatch batch, IReadOnlyList<(ProductManifest Manifest, PostProcessingOutcome Outcome)> registered)
    {
        var s = registered.SelectMany(r => r.Outcome.Stamped.Select(x => (Jid: r.Manifest.Jid, Source: r.Outcome.SourceJid, Stamped: x))).ToList();
        if (s.Count == 0) return;
        // r, c, d and q run though the query does not read them: PostgreSQL runs data-modifying WITH clauses to completion,
        // all on the snapshot before the statement (so "old" holds the file names the stamped copies replace). The source
        // jobs' products are found through the list of their jids (= any: an index scan), not by a join the planner
        // answered with a scan of every job's products per batch; "old" is read once (materialized: inlined, it searched
        // the list again for every stamped product). Whether the source job was planned again since its post-processing
        // job was is asked once per job ("fresh"), not once per stamped product. Each
        // post-processing job stamps one source job (one per source and date), so no row is updated twice.
        batch.Add("""
            with s as (
              select * from unnest(@ppJids, @ppSourceJids, @ppRoles, @ppSources, @ppFiles, @ppSizes, @ppShas, @ppMd5s)
                as s(jid, src, role, source, file, size, sha, md5)),
            fresh as materialized (
              select k.jid, k.src from (select distinct jid, src from s) k
              where not exists (select 1 from jobs src, jobs pp where src.jid = k.src and pp.jid = k.jid and src.launched > pp.launched)),
            old as materialized (
              select jid as src, role, filename, sizebytes, stamped_by from jobproducts where jid = any(@ppSourceJobs)),
            p as (
              update jobproducts j set filename = s.file, sizebytes = s.size, sha256 = s.sha, md5 = s.md5, stamped_by = s.jid
              from s join fresh f on f.jid = s.jid and f.src = s.src
              where j.jid = any(@ppSourceJobs) and j.jid = s.src and j.role = s.role and (s.source is null or j.filename = s.source)
              returning s.jid as pp, j.jid as src, j.role, j.filename, j.md5),
            r as (
              update refimages t set filename = p.filename, checksum = p.md5
              from p where t.jid = p.src and p.role = 'refimage' returning 1),
            c as (
              update refimcatalogs t set filename = p.filename, checksum = p.md5
              from p, refimages r where r.jid = p.src and t.rfid = r.rfid and t.cattype = 1 and p.role = 'refimage_catalog' returning 1),
            d as (
              update diffimages t set filename = p.filename, checksum = p.md5
              from p where t.jid = p.src and p.role = 'diffimage' returning 1),
            q as (
              update recoveryjobs t set filename = p.filename, checksum = p.md5
              from p where t.jid = p.src and p.role = 'injrecov' returning 1)
            insert into supersededfiles (uri, jid, owner, role, stamped, sizebytes)
            select o.filename, p.pp, coalesce(o.stamped_by, p.src), o.role, p.filename, o.sizebytes
            from p join old o on o.src = p.src and o.role = p.role
            where o.filename <> p.filename
            on conflict (uri) do update set jid = excluded.jid, owner = excluded.owner, role = excluded.role, stamped = excluded.stamped,
              sizebytes = excluded.sizebytes, status = 'pending', reason = null, queued = now(), decided = null
            """,
            new
            {
                ppJids = s.Select(x => x.Jid).ToArray(), ppSourceJids = s.Select(x => x.Source).ToArray(),
                ppSourceJobs = s.Select(x => x.Source).Distinct().ToArray(),
                ppRoles = s.Select(x => x.Stamped.Role).ToArray(), ppSources = s.Select(x => x.Stamped.Source?.ToString()).ToArray(),
                ppFiles = s.Select(x => x.Stamped.File.ToString()).ToArray(), ppSizes = s.Select(x => x.Stamped.Checksum.SizeBytes).ToArray(),
                ppShas = s.Select(x => x.Stamped.Checksum.Sha256).ToArray(), ppMd5s = s.Select(x => x.Stamped.Checksum.Md5).ToArray(),
            });
    }
}
