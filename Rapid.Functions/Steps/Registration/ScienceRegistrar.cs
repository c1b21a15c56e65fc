using Rapid.Core.Contracts;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps.Registration;

/// <summary>
/// ppid 15: the difference image (<c>diffimages</c> with its version and vbest, <c>diffimmeta</c>), the reference the
/// job co-added when none was registered, and its injection-recovery (<c>recoveryjobs</c>, <c>recoveryfigures</c>;
/// a manifest without one drops what an earlier run of the job registered). Fields the science engineers add to
/// <see cref="ScienceOutcome"/> are validated and stored here.
/// </summary>
internal sealed class ScienceRegistrar : JobRegistrar<ScienceOutcome>
{
    public const string FakeKind = "fake";
    public const string TransientKind = "transient";

    public override int Ppid => PipelineIds.Science;

    protected override ManifestViolation? Validate(ProductManifest m, ScienceOutcome outcome, ObjectKeys keys) =>
        Requires(m, ProductRoles.DifferenceImage, "a difference image")
        ?? CheckDifference(outcome.Difference, "outcome.difference")
        ?? (outcome.CoaddedReference is { } r
            ? Requires(m, ProductRoles.ReferenceImage, "a co-added reference") ?? ReferenceImageRegistrar.Check(r, "outcome.coaddedReference")
            : null)
        ?? (outcome.InjectionRecovery is { } i
            ? Requires(m, ProductRoles.InjectionRecovery, "injection-recovery") ?? CheckRecovery(i, "outcome.injectionRecovery")
            : null);

    protected override JobExpectations Expect(ScienceOutcome outcome) => new()
    {
        Rid = outcome.Difference.Rid, CheckRfid = true, Rfid = outcome.Difference.Rfid,
        Field = outcome.CoaddedReference?.Field, Fid = (short?)outcome.CoaddedReference?.Fid,
    };

    protected override RegisteredCounts Count(ScienceOutcome outcome) =>
        new(ReferenceImages: outcome.CoaddedReference is null ? 0 : 1, DifferenceImages: 1);

    // A reference the job co-added is registered with the manifest's own statements, before the batch's difference images
    // (which name it).
    protected override void AddStatements(RegistrationBatch batch, ProductManifest m, ScienceOutcome outcome)
    {
        if (outcome.CoaddedReference is { } reference) ReferenceImageRegistrar.AddReference(batch, m, reference);
    }

    /// <summary>
    /// The batch's difference images and injection-recovery, set-based: a statement per table for every manifest (one per
    /// manifest cost more to parse and plan than its rows). <c>diffimage_slot</c> gives each its version and vbest, one
    /// row at a time; jobs of one science image (rid) go to successive statements, so each sees the rows of those before
    /// it, as when registered one by one.
    /// </summary>
    protected override void AddBatchStatements(RegistrationBatch batch, IReadOnlyList<(ProductManifest Manifest, ScienceOutcome Outcome)> registered)
    {
        var rounds = registered.GroupBy(r => r.Outcome.Difference.Rid).SelectMany(g => g.Select((r, k) => (Round: k, r.Manifest, r.Outcome)))
            .GroupBy(x => x.Round).OrderBy(g => g.Key);
        foreach (var round in rounds)
        {
            var scope = batch.For(round.Key);
            var items = round.Select(x => (x.Manifest, x.Outcome)).ToList();
            AddDifferences(scope, items);
            AddRecoveries(scope, items);
        }
    }

    /// <summary>The difference images (<c>diffimages</c>, <c>diffimmeta</c>) of manifests of distinct science images.</summary>
    private static void AddDifferences(RegistrationBatch batch, IReadOnlyList<(ProductManifest Manifest, ScienceOutcome Outcome)> items)
    {
        var d = items.Select(x => (x.Manifest, x.Outcome.Difference, Image: Product(x.Manifest, ProductRoles.DifferenceImage))).ToList();
        // The reference: the registered one the job was given, or the one it co-added (registered by its own statements).
        batch.Add("""
            with u as (
              select * from unnest(@dJids, @dRids, @dRfids, @dFiles, @dMd5s, @dSvTags, @dNSources, @dNPositive, @dNNegative, @dScaleFactor,
                                   @dDxRms, @dDyRms, @dDxMedian, @dDyMedian, @dBackgroundScience, @dBackgroundReference, @dFwhmScience, @dFwhmReference)
                as u(jid, rid, rfid, file, md5, svtag, nsources, npositive, nnegative, scalefactor, dxrms, dyrms, dxmedian, dymedian,
                     bkgsci, bkgref, fwhmsci, fwhmref)),
            d as (
              insert into diffimages (rid, expid, sca, ppid, version, vbest, rfid, jid, field, fid, mjdobs,
                ra0, dec0, ra1, dec1, ra2, dec2, ra3, dec3, ra4, dec4, filename, checksum, status, svid, hp6, hp9)
              select l.rid, l.expid, l.sca, @dPpid, s.o_version, s.o_vbest, coalesce(u.rfid, (select rfid from refimages r where r.jid = u.jid)), u.jid,
                l.field, l.fid, l.mjdobs, g.ra0, g.dec0, g.ra1, g.dec1, g.ra2, g.dec2, g.ra3, g.dec3, g.ra4, g.dec4, u.file, u.md5, 1,
                (select svid from swversions where cvstag = u.svtag), g.hp6, g.hp9
              from u join l2files l on l.rid = u.rid join l2filemeta g on g.rid = u.rid cross join lateral diffimage_slot(u.jid, u.rid, @dPpid) s
              on conflict (jid) do update set rfid = excluded.rfid, filename = excluded.filename, checksum = excluded.checksum,
                status = 1, vbest = excluded.vbest, svid = excluded.svid
              returning pid, jid, field, fid, sca)
            insert into diffimmeta (pid, nsources, npositive, nnegative, scalefacref, dxrmsfin, dyrmsfin, dxmedianfin, dymedianfin,
              bkgsci, bkgref, fwhmsci, fwhmref, field, fid, sca)
            select d.pid, u.nsources, u.npositive, u.nnegative, u.scalefactor, u.dxrms, u.dyrms, u.dxmedian, u.dymedian,
              u.bkgsci, u.bkgref, u.fwhmsci, u.fwhmref, d.field, d.fid, d.sca
            from d join u on u.jid = d.jid
            on conflict (pid) do update set nsources = excluded.nsources, npositive = excluded.npositive, nnegative = excluded.nnegative,
              scalefacref = excluded.scalefacref, dxrmsfin = excluded.dxrmsfin, dyrmsfin = excluded.dyrmsfin,
              dxmedianfin = excluded.dxmedianfin, dymedianfin = excluded.dymedianfin, bkgsci = excluded.bkgsci, bkgref = excluded.bkgref,
              fwhmsci = excluded.fwhmsci, fwhmref = excluded.fwhmref
            """,
            new
            {
                dPpid = (short)PipelineIds.Science,
                dJids = d.Select(x => x.Manifest.Jid).ToArray(), dRids = d.Select(x => x.Difference.Rid).ToArray(),
                dRfids = d.Select(x => x.Difference.Rfid).ToArray(), dFiles = d.Select(x => x.Image.File.ToString()).ToArray(),
                dMd5s = d.Select(x => x.Image.Checksum.Md5).ToArray(), dSvTags = d.Select(x => x.Manifest.Software.Version.Trim()).ToArray(),
                dNSources = d.Select(x => x.Difference.NSources).ToArray(), dNPositive = d.Select(x => x.Difference.NPositive).ToArray(),
                dNNegative = d.Select(x => x.Difference.NNegative).ToArray(), dScaleFactor = d.Select(x => x.Difference.ScaleFactor).ToArray(),
                dDxRms = d.Select(x => x.Difference.DxRms).ToArray(), dDyRms = d.Select(x => x.Difference.DyRms).ToArray(),
                dDxMedian = d.Select(x => x.Difference.DxMedian).ToArray(), dDyMedian = d.Select(x => x.Difference.DyMedian).ToArray(),
                dBackgroundScience = d.Select(x => x.Difference.BackgroundScience).ToArray(),
                dBackgroundReference = d.Select(x => x.Difference.BackgroundReference).ToArray(),
                dFwhmScience = d.Select(x => x.Difference.FwhmScience).ToArray(), dFwhmReference = d.Select(x => x.Difference.FwhmReference).ToArray(),
            });
    }

    /// <summary>
    /// Each job's recovery figures, replaced as a whole (its figures cascade); a manifest without injection-recovery drops
    /// what an earlier run of its job registered.
    /// </summary>
    private static void AddRecoveries(RegistrationBatch batch, IReadOnlyList<(ProductManifest Manifest, ScienceOutcome Outcome)> items)
    {
        var r = items.Where(x => x.Outcome.InjectionRecovery is not null)
            .Select(x => (x.Manifest, Recovery: x.Outcome.InjectionRecovery!, Table: Product(x.Manifest, ProductRoles.InjectionRecovery))).ToList();
        var figures = r.SelectMany(x => new (string Kind, RecoveryFigures? Figures)[] { (FakeKind, x.Recovery.Fakes), (TransientKind, x.Recovery.Transients) }
            .Where(k => k.Figures is not null).Select(k => (x.Manifest.Jid, k.Kind, Figures: k.Figures!))).ToList();
        batch.Add("""
            delete from recoveryjobs where jid = any(@irNone);
            insert into recoveryjobs (jid, pid, rid, fid, procdate, seed, brightmag, faintmag, maglimit, psffwhm, psfsource, matchradius,
              npositive, nunmatched, areadeg2, nmasked, filename, checksum, ended)
            select u.jid, d.pid, d.rid, d.fid, to_date(u.procdate, 'YYYYMMDD'), u.seed, u.brightmag, u.faintmag, u.maglimit, u.psffwhm, u.psfsource,
              u.matchradius, u.npositive, u.nunmatched, u.areadeg2, u.nmasked, u.file, u.md5, u.ended
            from unnest(@irJids, @irProcDates, @irSeed, @irBrightMag, @irFaintMag, @irMagLimit, @irPsfFwhmPixels, @irPsfSource, @irMatchRadiusPixels,
                        @irPositiveDetections, @irUnmatchedPositive, @irAreaDeg2, @irFakesOnMaskedPixels, @irFiles, @irMd5s, @irEnded)
              as u(jid, procdate, seed, brightmag, faintmag, maglimit, psffwhm, psfsource, matchradius, npositive, nunmatched, areadeg2, nmasked,
                   file, md5, ended)
            join diffimages d on d.jid = u.jid
            on conflict (jid) do update set pid = excluded.pid, rid = excluded.rid, fid = excluded.fid, procdate = excluded.procdate,
              seed = excluded.seed, brightmag = excluded.brightmag, faintmag = excluded.faintmag, maglimit = excluded.maglimit,
              psffwhm = excluded.psffwhm, psfsource = excluded.psfsource, matchradius = excluded.matchradius, npositive = excluded.npositive,
              nunmatched = excluded.nunmatched, areadeg2 = excluded.areadeg2, nmasked = excluded.nmasked, filename = excluded.filename,
              checksum = excluded.checksum, ended = excluded.ended;
            delete from recoveryfigures where jid = any(@irJids);
            insert into recoveryfigures (jid, kind, ninjected, nfound, mag50, mag90, fluxbias)
            select * from unnest(@irFigureJids, @irKinds, @irInjected, @irFound, @irMag50, @irMag90, @irBias)
            """,
            new
            {
                irNone = items.Where(x => x.Outcome.InjectionRecovery is null).Select(x => x.Manifest.Jid).ToArray(),
                irJids = r.Select(x => x.Manifest.Jid).ToArray(), irProcDates = r.Select(x => x.Manifest.ProcDate).ToArray(),
                irSeed = r.Select(x => x.Recovery.Seed).ToArray(), irBrightMag = r.Select(x => x.Recovery.BrightMag).ToArray(),
                irFaintMag = r.Select(x => x.Recovery.FaintMag).ToArray(), irMagLimit = r.Select(x => x.Recovery.MagLimit).ToArray(),
                irPsfFwhmPixels = r.Select(x => x.Recovery.PsfFwhmPixels).ToArray(), irPsfSource = r.Select(x => x.Recovery.PsfSource).ToArray(),
                irMatchRadiusPixels = r.Select(x => x.Recovery.MatchRadiusPixels).ToArray(),
                irPositiveDetections = r.Select(x => x.Recovery.PositiveDetections).ToArray(),
                irUnmatchedPositive = r.Select(x => x.Recovery.UnmatchedPositive).ToArray(), irAreaDeg2 = r.Select(x => x.Recovery.AreaDeg2).ToArray(),
                irFakesOnMaskedPixels = r.Select(x => x.Recovery.FakesOnMaskedPixels).ToArray(),
                irFiles = r.Select(x => x.Table.File.ToString()).ToArray(), irMd5s = r.Select(x => x.Table.Checksum.Md5).ToArray(),
                irEnded = r.Select(x => x.Manifest.Ended).ToArray(),
                irFigureJids = figures.Select(f => f.Jid).ToArray(), irKinds = figures.Select(f => f.Kind).ToArray(),
                irInjected = figures.Select(f => f.Figures.Injected).ToArray(), irFound = figures.Select(f => f.Figures.Found).ToArray(),
                irMag50 = figures.Select(f => f.Figures.Mag50).ToArray(), irMag90 = figures.Select(f => f.Figures.Mag90).ToArray(),
                irBias = figures.Select(f => f.Figures.FluxBias).ToArray(),
            });
    }

    /// <summary>
    /// Counts not negative (positive and negative detections within the total), the flux scale finite and positive, the
    /// masked fraction in [0, 1], the corners on the sky; other statistics not infinite (NaN: not measured).
    /// </summary>
    private static ManifestViolation? CheckDifference(DifferenceImageResult d, string path)
    {
        if (d.Rid <= 0) return new($"{path}.rid", $"{d.Rid} is not an rid");
        if (d.Rfid is <= 0) return new($"{path}.rfid", $"{d.Rfid} is not an rfid");
        if (d.NSources < 0 || d.NPositive < 0 || d.NNegative < 0 || d.NPositive + d.NNegative > d.NSources)
            return new($"{path}.nSources", $"{d.NSources} sources with {d.NPositive} positive and {d.NNegative} negative");
        if (!(double.IsFinite(d.ScaleFactor) && d.ScaleFactor > 0)) return new($"{path}.scaleFactor", $"{d.ScaleFactor} is not a flux scale");
        if (!(d.MaskedFraction is >= 0 and <= 1)) return new($"{path}.maskedFraction", $"{d.MaskedFraction} is not a fraction");
        foreach (var (name, value) in new (string, double)[]
                 {
                     ("dxRms", d.DxRms), ("dyRms", d.DyRms), ("dxMedian", d.DxMedian), ("dyMedian", d.DyMedian),
                     ("backgroundScience", d.BackgroundScience), ("backgroundReference", d.BackgroundReference),
                     ("fwhmScience", d.FwhmScience), ("fwhmReference", d.FwhmReference), ("coverageMedian", d.CoverageMedian),
                 })
            if (double.IsInfinity(value)) return new($"{path}.{name}", $"{value} is infinite");
        if (d.CornersRaDec.Count is not (0 or 10)) return new($"{path}.cornersRaDec", $"{d.CornersRaDec.Count} values, not the centre and 4 corners (10)");
        for (var i = 0; i < d.CornersRaDec.Count; i++)
            if (!(i % 2 == 0 ? d.CornersRaDec[i] is >= 0 and < 360 : d.CornersRaDec[i] is >= -90 and <= 90))
                return new($"{path}.cornersRaDec[{i}]", $"{d.CornersRaDec[i]} is not {(i % 2 == 0 ? "an RA" : "a Dec")} in degrees");
        return null;
    }

    private static ManifestViolation? CheckRecovery(InjectionRecoveryResult r, string path)
    {
        if (Figures(r.Fakes, $"{path}.fakes") is { } fakes) return fakes;
        if (r.Transients is { } t && Figures(t, $"{path}.transients") is { } transients) return transients;
        if (r.PsfSource is not ("science" or "model")) return new($"{path}.psfSource", $"'{r.PsfSource}' is neither science nor model");
        foreach (var (name, value) in new (string, double)[]
                 {
                     ("brightMag", r.BrightMag), ("faintMag", r.FaintMag), ("magLimit", r.MagLimit), ("psfFwhmPixels", r.PsfFwhmPixels),
                     ("matchRadiusPixels", r.MatchRadiusPixels), ("areaDeg2", r.AreaDeg2),
                 })
            if (ManifestValidator.Finite(value, mayBeNegative: name.EndsWith("Mag", StringComparison.Ordinal)) is { } problem)
                return new($"{path}.{name}", problem);
        if (r.PositiveDetections < 0 || r.UnmatchedPositive < 0 || r.UnmatchedPositive > r.PositiveDetections)
            return new($"{path}.unmatchedPositive", $"{r.UnmatchedPositive} of {r.PositiveDetections} positive detections");
        if (r.FakesOnMaskedPixels < 0 || r.FakesOnMaskedPixels > r.Fakes.Injected)
            return new($"{path}.fakesOnMaskedPixels", $"{r.FakesOnMaskedPixels} of {r.Fakes.Injected} injected");
        return null;
    }

    /// <summary>Found within injected, magnitudes finite when given, the flux bias not infinite (NaN when none was found).</summary>
    public static ManifestViolation? Figures(RecoveryFigures f, string path)
    {
        if (f.Injected < 0 || f.Found < 0 || f.Found > f.Injected) return new($"{path}.found", $"{f.Found} found of {f.Injected} injected");
        if (f.Mag50 is { } m50 && !double.IsFinite(m50)) return new($"{path}.mag50", $"{m50} is not finite");
        if (f.Mag90 is { } m90 && !double.IsFinite(m90)) return new($"{path}.mag90", $"{m90} is not finite");
        if (double.IsInfinity(f.FluxBias)) return new($"{path}.fluxBias", $"{f.FluxBias} is infinite");
        return null;
    }
}
