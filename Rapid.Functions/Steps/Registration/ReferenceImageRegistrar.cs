using Rapid.Core.Contracts;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps.Registration;

/// <summary>
/// ppid 12: the co-added reference image (<c>refimages</c> with its version and vbest, <c>refimmeta</c>, the catalog in
/// <c>refimcatalogs</c>, the inputs actually co-added in <c>refimimages</c>). The same statements register the reference
/// a science job co-adds for itself (<see cref="ScienceRegistrar"/>).
/// </summary>
internal sealed class ReferenceImageRegistrar : JobRegistrar<ReferenceImageOutcome>
{
    public override int Ppid => PipelineIds.ReferenceImage;

    protected override ManifestViolation? Validate(ProductManifest m, ReferenceImageOutcome outcome, ObjectKeys keys) =>
        Requires(m, ProductRoles.ReferenceImage, "a reference image") ?? Check(outcome.Reference, "outcome.reference");

    protected override JobExpectations Expect(ReferenceImageOutcome outcome) =>
        new() { Field = outcome.Reference.Field, Fid = (short)outcome.Reference.Fid };

    protected override void AddStatements(RegistrationBatch batch, ProductManifest m, ReferenceImageOutcome outcome) =>
        AddReference(batch, m, outcome.Reference);

    protected override RegisteredCounts Count(ReferenceImageOutcome outcome) => new(ReferenceImages: 1);

    /// <summary>A reference image's statistics: counts not negative, statistics not infinite (NaN: not measured), MJDs in order.</summary>
    public static ManifestViolation? Check(ReferenceImageResult r, string path)
    {
        if (r.Field < 0) return new($"{path}.field", $"{r.Field} is not a field");
        if (r.Fid is < 1 or > short.MaxValue) return new($"{path}.fid", $"{r.Fid} is not a filter id");
        if (r.NFrames < 0) return new($"{path}.nFrames", $"{r.NFrames} is negative");
        if (r.InputRids.Count != r.NFrames) return new($"{path}.inputRids", $"{r.InputRids.Count} inputs for {r.NFrames} frames");
        if (r.InputRids.Any(x => x <= 0) || r.InputRids.Distinct().Count() != r.InputRids.Count)
            return new($"{path}.inputRids", "must be distinct rids");
        if (r.NPixNan < 0) return new($"{path}.nPixNan", $"{r.NPixNan} is negative");
        if (r.NPixSat < 0) return new($"{path}.nPixSat", $"{r.NPixSat} is negative");
        if (r.NSources < 0) return new($"{path}.nSources", $"{r.NSources} is negative");
        foreach (var (name, value) in new (string, double)[]
                 {
                     ("mjdObsMin", r.MjdObsMin), ("mjdObsMax", r.MjdObsMax), ("cov5Percent", r.Cov5Percent), ("medianCoverage", r.MedianCoverage),
                     ("medianPixelUncertainty", r.MedianPixelUncertainty), ("clippedMean", r.ClippedMean), ("clippedSigma", r.ClippedSigma),
                     ("fwhmMedian", r.FwhmMedian),
                 })
            if (double.IsInfinity(value)) return new($"{path}.{name}", $"{value} is infinite");
        if (r.MjdObsMin > r.MjdObsMax) return new($"{path}.mjdObsMax", $"{r.MjdObsMax} is before mjdObsMin {r.MjdObsMin}");
        if (r.Cov5Percent < 0) return new($"{path}.cov5Percent", $"{r.Cov5Percent} is negative");
        return null;
    }

    /// <summary>The reference image of the manifest's job: its row keeps its version and vbest when registered again.</summary>
    public static void AddReference(RegistrationBatch batch, ProductManifest m, ReferenceImageResult r)
    {
        var image = Product(m, ProductRoles.ReferenceImage);
        var catalog = m.Products.FirstOrDefault(p => p.Role == ProductRoles.ReferenceCatalog);
        batch.Add("""
            insert into refimages (field, fid, ppid, version, vbest, jid, filename, checksum, status, svid, hp6, hp9)
            select @rfField, @rfFid, @ppid, s.o_version, s.o_vbest, @jid, @rfFile, @rfMd5, 1,
                   (select svid from swversions where cvstag = @svTag), f.hp6, f.hp9
            from refimage_slot(@jid, @rfField, @rfFid, @ppid) s, fields f where f.field = @rfField
            on conflict (jid) do update set filename = excluded.filename, checksum = excluded.checksum, status = 1, svid = excluded.svid;
            insert into refimmeta (rfid, nframes, mjdobsmin, mjdobsmax, npixsat, npixnan, clmean, clstddev, cov5percent, medncov, medpixunc, fwhmmed, nsexcatsources)
            select rfid, @rfNFrames, @rfMjdObsMin, @rfMjdObsMax, @rfNPixSat, @rfNPixNan, @rfClippedMean, @rfClippedSigma, @rfCov5Percent, @rfMedianCoverage,
                   @rfMedianPixelUncertainty, @rfFwhmMedian, @rfNSources
            from refimages where jid = @jid
            on conflict (rfid) do update set nframes = excluded.nframes, mjdobsmin = excluded.mjdobsmin, mjdobsmax = excluded.mjdobsmax,
              npixsat = excluded.npixsat, npixnan = excluded.npixnan, clmean = excluded.clmean, clstddev = excluded.clstddev,
              cov5percent = excluded.cov5percent, medncov = excluded.medncov, medpixunc = excluded.medpixunc,
              fwhmmed = excluded.fwhmmed, nsexcatsources = excluded.nsexcatsources;
            delete from refimimages where rfid = (select rfid from refimages where jid = @jid);
            insert into refimimages (rfid, rid) select r.rfid, u.rid from refimages r, unnest(@rfInputs) as u(rid) where r.jid = @jid
            """,
            new
            {
                rfField = r.Field, rfFid = (short)r.Fid, rfFile = image.File.ToString(), rfMd5 = image.Checksum.Md5, rfInputs = r.InputRids.ToArray(),
                rfNFrames = r.NFrames, rfMjdObsMin = r.MjdObsMin, rfMjdObsMax = r.MjdObsMax, rfNPixSat = r.NPixSat, rfNPixNan = r.NPixNan,
                rfClippedMean = r.ClippedMean, rfClippedSigma = r.ClippedSigma, rfCov5Percent = r.Cov5Percent, rfMedianCoverage = r.MedianCoverage,
                rfMedianPixelUncertainty = r.MedianPixelUncertainty, rfFwhmMedian = r.FwhmMedian, rfNSources = r.NSources,
            });
        if (catalog is not null)
            batch.Add("""
                insert into refimcatalogs (rfid, ppid, cattype, filename, checksum, status)
                select rfid, @ppid, 1, @rfCatFile, @rfCatMd5, 1 from refimages where jid = @jid
                on conflict (rfid, ppid, cattype) do update set filename = excluded.filename, checksum = excluded.checksum, status = 1
                """, new { rfCatFile = catalog.File.ToString(), rfCatMd5 = catalog.Checksum.Md5 });
    }
}
