using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps.Registration;

/// <summary>
/// ppid 17: the stamped, renamed copies replace the registered file names and checksums of the source job's products
/// (<c>jobproducts</c>, marked <c>stamped_by</c> this job, and <c>refimages</c>, <c>refimcatalogs</c>, <c>diffimages</c>,
/// <c>recoveryjobs</c>). A product is replaced only while it is still the file that was stamped: when the source job
/// was re-run and registered new products since post-processing was planned, its stale copies are not registered, the
/// new products stay unstamped and the next plan stamps them.
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

    protected override void AddStatements(RegistrationBatch batch, ProductManifest m, PostProcessingOutcome outcome)
    {
        var s = outcome.Stamped;
        batch.Add("""
            with s as (
              select * from unnest(@ppRoles, @ppSources, @ppFiles, @ppSizes, @ppShas, @ppMd5s) as s(role, source, file, size, sha, md5)),
            p as (
              update jobproducts j set filename = s.file, sizebytes = s.size, sha256 = s.sha, md5 = s.md5, stamped_by = @jid
              from s where j.jid = @ppSource and j.role = s.role and (s.source is null or j.filename = s.source)
              returning j.role, j.filename, j.md5),
            r as (
              update refimages t set filename = p.filename, checksum = p.md5, status = 1
              from p where t.jid = @ppSource and p.role = 'refimage' returning 1),
            c as (
              update refimcatalogs t set filename = p.filename, checksum = p.md5, status = 1
              from p, refimages r where r.jid = @ppSource and t.rfid = r.rfid and t.cattype = 1 and p.role = 'refimage_catalog' returning 1),
            d as (
              update diffimages t set filename = p.filename, checksum = p.md5, status = 1
              from p where t.jid = @ppSource and p.role = 'diffimage' returning 1),
            q as (
              update recoveryjobs t set filename = p.filename, checksum = p.md5
              from p where t.jid = @ppSource and p.role = 'injrecov' returning 1)
            select 1 from r, c, d, q where false
            """,
            new
            {
                ppSource = outcome.SourceJid, ppRoles = s.Select(x => x.Role).ToArray(), ppSources = s.Select(x => x.Source?.ToString()).ToArray(),
                ppFiles = s.Select(x => x.File.ToString()).ToArray(), ppSizes = s.Select(x => x.Checksum.SizeBytes).ToArray(),
                ppShas = s.Select(x => x.Checksum.Sha256).ToArray(), ppMd5s = s.Select(x => x.Checksum.Md5).ToArray(),
            });
    }
}
