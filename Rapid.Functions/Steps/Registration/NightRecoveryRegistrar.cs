using Rapid.Core.Contracts;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps.Registration;

/// <summary>
/// ppid 18: the night's merged injection-recovery table and its completeness per filter and kind
/// (<c>nightrecovery</c>, <c>nightrecoveryfigures</c>, <c>nightrecoverybins</c>), replaced as a whole per processing date.
/// </summary>
internal sealed class NightRecoveryRegistrar : JobRegistrar<NightRecoveryOutcome>
{
    public override int Ppid => PipelineIds.NightRecovery;

    protected override ManifestViolation? Validate(ProductManifest m, NightRecoveryOutcome outcome, ObjectKeys keys)
    {
        if (Requires(m, ProductRoles.NightRecovery, "the night's recovery") is { } missing) return missing;
        if (outcome.Tables < 0) return new("outcome.tables", $"{outcome.Tables} is negative");
        var seen = new HashSet<(int, string)>();
        for (var i = 0; i < outcome.Filters.Count; i++)
        {
            var f = outcome.Filters[i];
            var path = $"outcome.filters[{i}]";
            if (f.Fid is < 1 or > short.MaxValue) return new($"{path}.fid", $"{f.Fid} is not a filter id");
            if (f.Kind is not (ScienceRegistrar.FakeKind or ScienceRegistrar.TransientKind)) return new($"{path}.kind", $"'{f.Kind}' is neither fake nor transient");
            if (!seen.Add((f.Fid, f.Kind))) return new($"{path}", $"fid {f.Fid} {f.Kind} is listed twice");
            if (f.Images < 1) return new($"{path}.images", $"{f.Images} is not a number of images");
            if (ScienceRegistrar.Figures(f.Figures, $"{path}.figures") is { } figures) return figures;
            if (f.UnmatchedPositive < 0) return new($"{path}.unmatchedPositive", $"{f.UnmatchedPositive} is negative");
            if (ManifestValidator.Finite(f.AreaDeg2) is { } area) return new($"{path}.areaDeg2", area);
            if (double.IsInfinity(f.FalsePositivesPerDeg2) || f.FalsePositivesPerDeg2 < 0)
                return new($"{path}.falsePositivesPerDeg2", $"{f.FalsePositivesPerDeg2} is not a rate");
            for (var b = 0; b < f.Bins.Count; b++)
            {
                var bin = f.Bins[b];
                var bp = $"{path}.bins[{b}]";
                if (!(double.IsFinite(bin.MagLow) && double.IsFinite(bin.MagHigh) && bin.MagHigh > bin.MagLow))
                    return new(bp, $"[{bin.MagLow}, {bin.MagHigh}) is not a magnitude bin");
                if (bin.Injected < 1 || bin.Found < 0 || bin.Found > bin.Injected) return new($"{bp}.found", $"{bin.Found} found of {bin.Injected} injected");
                if (!(bin.Completeness is >= 0 and <= 1)) return new($"{bp}.completeness", $"{bin.Completeness} is not a fraction");
                if (double.IsInfinity(bin.FluxBias)) return new($"{bp}.fluxBias", $"{bin.FluxBias} is infinite");
            }
        }
        return null;
    }

    protected override JobExpectations Expect(NightRecoveryOutcome outcome) => new();

    protected override RegisteredCounts Count(NightRecoveryOutcome outcome) => new();

    protected override void AddStatements(RegistrationBatch batch, ProductManifest m, NightRecoveryOutcome night)
    {
        var table = Product(m, ProductRoles.NightRecovery);
        var f = night.Filters;
        var bins = f.SelectMany(x => x.Bins.Select(b => (x.Fid, x.Kind, Bin: b))).ToList();
        batch.Add("""
            delete from nightrecovery where procdate = to_date(@procdate, 'YYYYMMDD');
            insert into nightrecovery (procdate, jid, ntables, filename, checksum, ended)
            values (to_date(@procdate, 'YYYYMMDD'), @jid, @nrTables, @nrFile, @nrMd5, @ended);
            insert into nightrecoveryfigures (procdate, fid, kind, nimages, ninjected, nfound, mag50, mag90, fluxbias, nunmatched, areadeg2, falseposdeg2)
            select to_date(@procdate, 'YYYYMMDD'), * from unnest(@nrFids, @nrKinds, @nrImages, @nrInjected, @nrFound, @nrMag50, @nrMag90, @nrBias,
              @nrUnmatched, @nrArea, @nrFp);
            insert into nightrecoverybins (procdate, fid, kind, maglow, maghigh, ninjected, nfound, completeness, fluxbias)
            select to_date(@procdate, 'YYYYMMDD'), * from unnest(@nbFids, @nbKinds, @nbLow, @nbHigh, @nbInjected, @nbFound, @nbCompleteness, @nbBias)
            """,
            new
            {
                nrTables = night.Tables, nrFile = table.File.ToString(), nrMd5 = table.Checksum.Md5,
                nrFids = f.Select(x => (short)x.Fid).ToArray(), nrKinds = f.Select(x => x.Kind).ToArray(), nrImages = f.Select(x => x.Images).ToArray(),
                nrInjected = f.Select(x => x.Figures.Injected).ToArray(), nrFound = f.Select(x => x.Figures.Found).ToArray(),
                nrMag50 = f.Select(x => x.Figures.Mag50).ToArray(), nrMag90 = f.Select(x => x.Figures.Mag90).ToArray(),
                nrBias = f.Select(x => x.Figures.FluxBias).ToArray(), nrUnmatched = f.Select(x => x.UnmatchedPositive).ToArray(),
                nrArea = f.Select(x => x.AreaDeg2).ToArray(), nrFp = f.Select(x => x.FalsePositivesPerDeg2).ToArray(),
                nbFids = bins.Select(b => (short)b.Fid).ToArray(), nbKinds = bins.Select(b => b.Kind).ToArray(),
                nbLow = bins.Select(b => b.Bin.MagLow).ToArray(), nbHigh = bins.Select(b => b.Bin.MagHigh).ToArray(),
                nbInjected = bins.Select(b => b.Bin.Injected).ToArray(), nbFound = bins.Select(b => b.Bin.Found).ToArray(),
                nbCompleteness = bins.Select(b => b.Bin.Completeness).ToArray(), nbBias = bins.Select(b => b.Bin.FluxBias).ToArray(),
            });
    }
}
