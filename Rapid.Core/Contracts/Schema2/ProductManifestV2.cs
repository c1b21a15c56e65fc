using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;

namespace Rapid.Core.Contracts.Schema2;

/// <summary>
/// A product manifest of schema 1 or 2, as jobs wrote it before schema 3: optional per-pipeline sections, warnings as
/// text, wall seconds per step. Read only, then turned into a <see cref="ProductManifest"/> by <see cref="ToCurrent"/>,
/// so registration of this release still reads what a job of the previous one wrote (e.g. a redelivered manifest).
/// Step wall times are not carried over (schema 2 had no start times for them, and registration never read them).
/// </summary>
public sealed record ProductManifestV2
{
    public int SchemaVersion { get; set; }
    public required long Jid { get; init; }
    public required int Ppid { get; init; }
    public required string ProcDate { get; init; }
    public required int ExitCode { get; init; }
    public string? Reason { get; init; }
    public IReadOnlyList<string> Warnings { get; set; } = [];
    public DateTimeOffset Started { get; init; }
    public DateTimeOffset Ended { get; init; }
    public string? BatchJobId { get; init; }
    public int Attempt { get; set; } = 1;
    public string SoftwareVersion { get; set; } = "";
    public string ConfigSha256 { get; set; } = "";
    public IReadOnlyList<ProductFile> Products { get; set; } = [];
    public IReadOnlyDictionary<string, double> StepSeconds { get; set; } = new Dictionary<string, double>();
    public ReferenceImageResult? ReferenceImage { get; init; }
    public DifferenceImageResult? DifferenceImage { get; init; }
    public PostProcessingResultV2? PostProcessing { get; init; }
    public InjectionRecoveryResult? InjectionRecovery { get; init; }
    public NightRecoveryResultV2? NightRecovery { get; init; }

    public ProductManifest ToCurrent() => new()
    {
        Jid = Jid, Ppid = Ppid, ProcDate = ProcDate, ExitCode = ExitCode,
        // Schema 2 put the joined warnings in the reason of a degraded job; schema 3 keeps them apart.
        Reason = ExitCode == ExitCodes.Degraded && Warnings.Count > 0 && Reason == string.Join("; ", Warnings) ? null : Reason,
        Warnings = Warnings.Select(w => new JobWarning(KindOf(w), w)).ToList(),
        Started = Started, Ended = Ended,
        Batch = new BatchRun { JobId = BatchJobId, Attempt = Attempt },
        Software = SoftwareInfo.Parse(SoftwareVersion),
        ConfigSha256 = ConfigSha256,
        Resources = new JobResources { WallSeconds = Started == default || Ended == default ? 0 : (Ended - Started).TotalSeconds },
        Products = Products,
        Outcome = ExitCodes.HasProducts(ExitCode) ? Outcome() : null,
    };

    private JobOutcome? Outcome() => Ppid switch
    {
        PipelineIds.ReferenceImage when ReferenceImage is { } r => new ReferenceImageOutcome { Reference = r },
        PipelineIds.Science when DifferenceImage is { } d =>
            new ScienceOutcome { Difference = d, CoaddedReference = ReferenceImage, InjectionRecovery = InjectionRecovery },
        PipelineIds.PostProcessing when PostProcessing is { } p => new PostProcessingOutcome
        {
            SourceJid = p.SourceJid,
            Stamped = p.Stamped.Select(f => new StampedProduct { Role = f.Role, File = f.File, Checksum = f.Checksum }).ToList(),
        },
        PipelineIds.NightRecovery when NightRecovery is { } n => new NightRecoveryOutcome { Filters = n.Filters, Tables = n.Tables },
        _ => null,
    };

    /// <summary>Schema 2's warnings began with the step that raised them ("psf: ...", "flux matching: ...").</summary>
    internal static JobWarningKind KindOf(string warning) => warning switch
    {
        _ when warning.StartsWith("psf:", StringComparison.Ordinal) => JobWarningKind.Psf,
        _ when warning.StartsWith("flux matching:", StringComparison.Ordinal) => JobWarningKind.FluxScale,
        _ when warning.StartsWith("coverage:", StringComparison.Ordinal) => JobWarningKind.Coverage,
        _ when warning.StartsWith("fake sources:", StringComparison.Ordinal) => JobWarningKind.FakeSources,
        _ => JobWarningKind.Unclassified,
    };
}

/// <summary>Schema 2's post-processing section.</summary>
public sealed record PostProcessingResultV2
{
    public required long SourceJid { get; init; }
    public IReadOnlyList<ProductFile> Stamped { get; set; } = [];
}

/// <summary>Schema 2's night-recovery section.</summary>
public sealed record NightRecoveryResultV2
{
    public IReadOnlyList<NightRecoveryFigures> Filters { get; set; } = [];
    public int Tables { get; init; }
}
