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

    protected override void AddStatements(RegistrationBatch batch, ProductManifest m, ScienceOutcome outcome)
    {
        if (outcome.CoaddedReference is { } reference) ReferenceImageRegistrar.AddReference(batch, m, reference);
        var d = outcome.Difference;
        var image = Product(m, ProductRoles.DifferenceImage);
        // The reference: the registered one the job was given, or the one it co-added (registered just above).
        batch.Add("""
            with d as (
              insert into diffimages (rid, expid, sca, ppid, version, vbest, rfid, jid, field, fid, mjdobs,
                ra0, dec0, ra1, dec1, ra2, dec2, ra3, dec3, ra4, dec4, filename, checksum, status, svid, hp6, hp9)
              select l.rid, l.expid, l.sca, @ppid, s.o_version, s.o_vbest, coalesce(@dRfid, (select rfid from refimages where jid = @jid)), @jid,
                l.field, l.fid, l.mjdobs, g.ra0, g.dec0, g.ra1, g.dec1, g.ra2, g.dec2, g.ra3, g.dec3, g.ra4, g.dec4, @dFile, @dMd5, 1,
                (select svid from swversions where cvstag = @svTag), g.hp6, g.hp9
              from l2files l join l2filemeta g on g.rid = l.rid, diffimage_slot(@jid, @dRid, @ppid) s
              where l.rid = @dRid
              on conflict (jid) do update set rfid = excluded.rfid, filename = excluded.filename, checksum = excluded.checksum,
                status = 1, svid = excluded.svid
              returning pid, field, fid, sca)
            insert into diffimmeta (pid, nsources, npositive, nnegative, scalefacref, dxrmsfin, dyrmsfin, dxmedianfin, dymedianfin,
              bkgsci, bkgref, fwhmsci, fwhmref, field, fid, sca)
            select d.pid, @dNSources, @dNPositive, @dNNegative, @dScaleFactor, @dDxRms, @dDyRms, @dDxMedian, @dDyMedian,
              @dBackgroundScience, @dBackgroundReference, @dFwhmScience, @dFwhmReference, d.field, d.fid, d.sca
            from d
            on conflict (pid) do update set nsources = excluded.nsources, npositive = excluded.npositive, nnegative = excluded.nnegative,
              scalefacref = excluded.scalefacref, dxrmsfin = excluded.dxrmsfin, dyrmsfin = excluded.dyrmsfin,
              dxmedianfin = excluded.dxmedianfin, dymedianfin = excluded.dymedianfin, bkgsci = excluded.bkgsci, bkgref = excluded.bkgref,
              fwhmsci = excluded.fwhmsci, fwhmref = excluded.fwhmref
            """,
            new
            {
                dRid = d.Rid, dRfid = d.Rfid, dFile = image.File.ToString(), dMd5 = image.Checksum.Md5,
                dNSources = d.NSources, dNPositive = d.NPositive, dNNegative = d.NNegative, dScaleFactor = d.ScaleFactor,
                dDxRms = d.DxRms, dDyRms = d.DyRms, dDxMedian = d.DxMedian, dDyMedian = d.DyMedian, dBackgroundScience = d.BackgroundScience,
                dBackgroundReference = d.BackgroundReference, dFwhmScience = d.FwhmScience, dFwhmReference = d.FwhmReference,
            });
        if (outcome.InjectionRecovery is { } recovery) AddRecovery(batch, m, recovery);
        else batch.Add("delete from recoveryjobs where jid = @jid");
    }

    /// <summary>The job's recovery figures, replaced as a whole (its figures cascade).</summary>
    private static void AddRecovery(RegistrationBatch batch, ProductManifest m, InjectionRecoveryResult r)
    {
        var table = Product(m, ProductRoles.InjectionRecovery);
        var kinds = new List<(string Kind, RecoveryFigures Figures)> { (FakeKind, r.Fakes) };
        if (r.Transients is { } t) kinds.Add((TransientKind, t));
        batch.Add("""
            insert into recoveryjobs (jid, pid, rid, fid, procdate, seed, brightmag, faintmag, maglimit, psffwhm, psfsource, matchradius,
              npositive, nunmatched, areadeg2, nmasked, filename, checksum, ended)
            select @jid, d.pid, d.rid, d.fid, to_date(@procdate, 'YYYYMMDD'), @irSeed, @irBrightMag, @irFaintMag, @irMagLimit, @irPsfFwhmPixels, @irPsfSource,
              @irMatchRadiusPixels, @irPositiveDetections, @irUnmatchedPositive, @irAreaDeg2, @irFakesOnMaskedPixels, @irFile, @irMd5, @ended
            from diffimages d where d.jid = @jid
            on conflict (jid) do update set pid = excluded.pid, rid = excluded.rid, fid = excluded.fid, procdate = excluded.procdate,
              seed = excluded.seed, brightmag = excluded.brightmag, faintmag = excluded.faintmag, maglimit = excluded.maglimit,
              psffwhm = excluded.psffwhm, psfsource = excluded.psfsource, matchradius = excluded.matchradius, npositive = excluded.npositive,
              nunmatched = excluded.nunmatched, areadeg2 = excluded.areadeg2, nmasked = excluded.nmasked, filename = excluded.filename,
              checksum = excluded.checksum, ended = excluded.ended;
            delete from recoveryfigures where jid = @jid;
            insert into recoveryfigures (jid, kind, ninjected, nfound, mag50, mag90, fluxbias)
            select @jid, * from unnest(@irKinds, @irInjected, @irFound, @irMag50, @irMag90, @irBias)
            """,
            new
            {
                irSeed = r.Seed, irBrightMag = r.BrightMag, irFaintMag = r.FaintMag, irMagLimit = r.MagLimit, irPsfFwhmPixels = r.PsfFwhmPixels,
                irPsfSource = r.PsfSource, irMatchRadiusPixels = r.MatchRadiusPixels, irPositiveDetections = r.PositiveDetections,
                irUnmatchedPositive = r.UnmatchedPositive, irAreaDeg2 = r.AreaDeg2, irFakesOnMaskedPixels = r.FakesOnMaskedPixels, irFile = table.File.ToString(), irMd5 = table.Checksum.Md5,
                irKinds = kinds.Select(k => k.Kind).ToArray(), irInjected = kinds.Select(k => k.Figures.Injected).ToArray(),
                irFound = kinds.Select(k => k.Figures.Found).ToArray(), irMag50 = kinds.Select(k => k.Figures.Mag50).ToArray(),
                irMag90 = kinds.Select(k => k.Figures.Mag90).ToArray(), irBias = kinds.Select(k => k.Figures.FluxBias).ToArray(),
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
