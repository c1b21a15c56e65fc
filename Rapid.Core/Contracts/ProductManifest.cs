using Rapid.Core.Storage;

namespace Rapid.Core.Contracts;

/// <summary>
/// What a job made: written last by every job (also on failure), read by registration.
/// Registration of one manifest is one transaction, keyed on the job id, so it is idempotent.
/// Schema 2 added InjectionRecovery and NightRecovery; a schema-1 manifest still reads.
/// </summary>
public sealed record ProductManifest
{
    public const int CurrentSchemaVersion = 2;
    public const int MinSupportedSchemaVersion = 1;

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

    /// <summary>Present when a science job injected fake sources (and, on simulated data, scored the truth transients).</summary>
    public InjectionRecoveryResult? InjectionRecovery { get; init; }

    /// <summary>Present for the night's recovery job (ppid 18): completeness per filter.</summary>
    public NightRecoveryResult? NightRecovery { get; init; }
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
    /// <summary>Median number of reference frames covering a science pixel.</summary>
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

/// <summary>What a set of sources to recover gave back. Mag50/Mag90: where completeness falls through 50 %/90 % (null when it does not within the bins).</summary>
public sealed record RecoveryFigures
{
    public int Injected { get; init; }
    public int Found { get; init; }
    public int Missed => Injected - Found;
    public double? Mag50 { get; init; }
    public double? Mag90 { get; init; }
    /// <summary>Median (measured − injected)/injected flux of the found sources; NaN when none was found.</summary>
    public double FluxBias { get; init; }
}

/// <summary>A science job's injection-recovery: what it injected (seed, magnitudes, PSF) and what came back.</summary>
public sealed record InjectionRecoveryResult
{
    public required long Seed { get; init; }
    public double BrightMag { get; init; }
    public double FaintMag { get; init; }
    /// <summary>Estimated 5σ point-source limit (AB) of the science image the magnitudes were spread around.</summary>
    public double MagLimit { get; init; }
    public double PsfFwhmPixels { get; init; }
    /// <summary>"science" when the FWHM was measured on the science image's stars, "model" when taken from the filter's PSF model.</summary>
    public string PsfSource { get; set; } = "";
    public double MatchRadiusPixels { get; init; }
    public required RecoveryFigures Fakes { get; init; }
    /// <summary>The simulator's transients shining on the image, scored like the fakes (simulated data only).</summary>
    public RecoveryFigures? Transients { get; init; }
    public int PositiveDetections { get; init; }
    /// <summary>Positive detections matched to neither a fake nor (on simulated data) a truth transient or variable.</summary>
    public int UnmatchedPositive { get; init; }
    /// <summary>Area searched for sources (valid difference-image pixels), deg².</summary>
    public double AreaDeg2 { get; init; }
    /// <summary>Fakes that fell on pixels masked in the difference image (counted as missed: completeness is over the whole image).</summary>
    public int FakesOnMaskedPixels { get; init; }
}

/// <summary>One completeness bin: [MagLow, MagHigh).</summary>
public sealed record CompletenessBinResult(double MagLow, double MagHigh, int Injected, int Found, double Completeness, double FluxBias);

/// <summary>A night's figures for one filter and kind ("fake" or "transient").</summary>
public sealed record NightRecoveryFigures
{
    public required int Fid { get; init; }
    public string Filter { get; set; } = "";
    public required string Kind { get; init; }
    public int Images { get; init; }
    public required RecoveryFigures Figures { get; init; }
    public int UnmatchedPositive { get; init; }
    public double AreaDeg2 { get; init; }
    /// <summary>Unmatched positive detections per deg² (on real data this includes real transients).</summary>
    public double FalsePositivesPerDeg2 { get; init; }
    public IReadOnlyList<CompletenessBinResult> Bins { get; set; } = [];
}

public sealed record NightRecoveryResult
{
    public IReadOnlyList<NightRecoveryFigures> Filters { get; set; } = [];
    public int Tables { get; init; }
}
