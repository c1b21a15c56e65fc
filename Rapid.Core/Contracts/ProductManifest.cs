using Rapid.Core.Storage;

namespace Rapid.Core.Contracts;

/// <summary>
/// What a job made: written last by every job (also on failure), read by registration.
/// Registration of one manifest is one transaction, keyed on the job id, so it is idempotent.
/// </summary>
public sealed record ProductManifest
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    public required long Jid { get; init; }
    public required int Ppid { get; init; }
    public required string ProcDate { get; init; }
    public required int ExitCode { get; init; }
    /// <summary>Why the job failed or was degraded; null on success.</summary>
    public string? Reason { get; init; }
    public IReadOnlyList<string> Warnings { get; set; } = [];
    public DateTimeOffset Started { get; init; }
    public DateTimeOffset Ended { get; init; }
    public string? BatchJobId { get; init; }
    public int Attempt { get; set; } = 1;
    public string SoftwareVersion { get; set; } = "";
    /// <summary>SHA-256 of the job config the job ran.</summary>
    public string ConfigSha256 { get; set; } = "";
    public IReadOnlyList<ProductFile> Products { get; set; } = [];
    /// <summary>Wall time per pipeline step, seconds.</summary>
    public IReadOnlyDictionary<string, double> StepSeconds { get; set; } = new Dictionary<string, double>();

    /// <summary>Present when the job co-added a reference image (ppid 12, or ppid 15 without a registered one).</summary>
    public ReferenceImageResult? ReferenceImage { get; init; }

    /// <summary>Present when a science job made a difference image.</summary>
    public DifferenceImageResult? DifferenceImage { get; init; }

    /// <summary>Present for post-processing jobs: the stamped, renamed products.</summary>
    public PostProcessingResult? PostProcessing { get; init; }
}

public sealed record ProductFile(string Role, ObjectRef File, FileChecksum Checksum);

public sealed record ReferenceImageResult
{
    public required long Field { get; init; }
    public required int Fid { get; init; }
    /// <summary>rids of the inputs actually co-added (not every candidate).</summary>
    public IReadOnlyList<long> InputRids { get; set; } = [];
    public int NFrames { get; init; }
    public double MjdObsMin { get; init; }
    public double MjdObsMax { get; init; }
    public long NPixNan { get; init; }
    public long NPixSat { get; init; }
    /// <summary>5th percentile of the coverage map (the original's cov5percent).</summary>
    public double Cov5Percent { get; init; }
    public double MedianCoverage { get; init; }
    public double MedianPixelUncertainty { get; init; }
    public double ClippedMean { get; init; }
    public double ClippedSigma { get; init; }
    public double FwhmMedian { get; init; }
    public int NSources { get; init; }
}

public sealed record DifferenceImageResult
{
    public required long Rid { get; init; }
    /// <summary>The registered reference used; null when the job co-added its own (see ReferenceImage).</summary>
    public long? Rfid { get; init; }
    public int NSources { get; init; }
    public int NPositive { get; init; }
    public int NNegative { get; init; }
    /// <summary>Flux scale applied to the reference to match the science image.</summary>
    public double ScaleFactor { get; set; } = 1.0;
    public double DxRms { get; init; }
    public double DyRms { get; init; }
    public double DxMedian { get; init; }
    public double DyMedian { get; init; }
    public double BackgroundScience { get; init; }
    public double BackgroundReference { get; init; }
    public double FwhmScience { get; init; }
    public double FwhmReference { get; init; }
    /// <summary>Median fraction (0..1) of the reference's frames covering a science pixel.</summary>
    public double CoverageMedian { get; init; }
    /// <summary>Fraction of the difference image masked (NaN): low reference coverage, bad, saturated or cosmic-ray pixels.</summary>
    public double MaskedFraction { get; init; }
    /// <summary>Science image centre and corners (deg): ra0/dec0 centre, then 1..4.</summary>
    public IReadOnlyList<double> CornersRaDec { get; set; } = [];
}

public sealed record PostProcessingResult
{
    public required long SourceJid { get; init; }
    public IReadOnlyList<ProductFile> Stamped { get; set; } = [];
}
