using System.Text.Json.Serialization;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Core.Contracts;

/// <summary>
/// What a job of one pipeline made, besides its product files: one sealed record per pipeline, written as
/// <c>"outcome": {"pipeline": "science", ...}</c> in the manifest when the job has products (exit 0–63 except 33).
/// Each pipeline's registrar (Rapid.Functions.Steps.Registration) reads its own outcome type.
/// To add a figure: a property on the pipeline's record (optional, or with a default, so older manifests still read),
/// set where the job builds its outcome, and stored by the pipeline's registrar if the database needs it.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "pipeline", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(ReferenceImageOutcome), PipelineNames.ReferenceImage)]
[JsonDerivedType(typeof(ScienceOutcome), PipelineNames.Science)]
[JsonDerivedType(typeof(PostProcessingOutcome), PipelineNames.PostProcessing)]
[JsonDerivedType(typeof(NightRecoveryOutcome), PipelineNames.NightRecovery)]
public abstract record JobOutcome
{
    [JsonIgnore]
    public abstract int Ppid { get; }
}

/// <summary>ppid 12: the co-added reference image.</summary>
public sealed record ReferenceImageOutcome : JobOutcome
{
    public override int Ppid => PipelineIds.ReferenceImage;
    public required ReferenceImageResult Reference { get; init; }
}

/// <summary>
/// ppid 15: the difference image, the reference the job co-added when none was registered, and what injection-recovery
/// measured. Set by <c>Rapid.Pipeline.Jobs.ScienceJob</c> at the end of its run.
/// </summary>
public sealed record ScienceOutcome : JobOutcome
{
    public override int Ppid => PipelineIds.Science;
    public required DifferenceImageResult Difference { get; init; }
    /// <summary>Present when the job co-added its own reference (no registered one).</summary>
    public ReferenceImageResult? CoaddedReference { get; init; }
    /// <summary>Present when the job injected fake sources.</summary>
    public InjectionRecoveryResult? InjectionRecovery { get; init; }
}

/// <summary>ppid 17: the stamped copies of one earlier job's products.</summary>
public sealed record PostProcessingOutcome : JobOutcome
{
    public override int Ppid => PipelineIds.PostProcessing;
    public required long SourceJid { get; init; }
    public IReadOnlyList<StampedProduct> Stamped { get; set; } = [];
}

/// <summary>A stamped copy (<see cref="File"/>, under the post-processing job's prefix) of a product file (<see cref="Source"/>).</summary>
public sealed record StampedProduct
{
    /// <summary>A <see cref="ProductRoles"/> value.</summary>
    public required string Role { get; init; }
    /// <summary>The file that was stamped: the product as registered when post-processing was planned (null only in schema-2 manifests).</summary>
    public ObjectRef? Source { get; init; }
    public required ObjectRef File { get; init; }
    public required FileChecksum Checksum { get; init; }
}

/// <summary>ppid 18: the night's completeness per filter and kind.</summary>
public sealed record NightRecoveryOutcome : JobOutcome
{
    public override int Ppid => PipelineIds.NightRecovery;
    public IReadOnlyList<NightRecoveryFigures> Filters { get; set; } = [];
    public int Tables { get; init; }
}

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
    /// <summary>The registered reference used; null when the job co-added its own (see <see cref="ScienceOutcome.CoaddedReference"/>).</summary>
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
