using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Report.Data;

/// <summary>
/// Everything the night report shows, read from the ops database (and, for logs and cutouts, the object store) by
/// <see cref="NightReportData"/>. Sections the database does not hold yet are empty lists, never invented.
/// </summary>
public sealed record NightReportModel
{
    public required ProcessingDate ProcDate { get; init; }
    public required DateTimeOffset GeneratedAt { get; init; }
    /// <summary>Every job of the processing date: its outcome and when it ran.</summary>
    public IReadOnlyList<JobRun> Jobs { get; init; } = [];
    public required NightGlance Glance { get; init; }
    public IReadOnlyList<FailureGroup> Failures { get; init; } = [];
    /// <summary>One row per science job (ppid 15), whatever its outcome.</summary>
    public IReadOnlyList<ImageQuality> Images { get; init; } = [];
    /// <summary>The night's completeness per filter and kind, and per magnitude bin (from the night recovery job).</summary>
    public IReadOnlyList<RecoverySummary> Recovery { get; init; } = [];
    public IReadOnlyList<RecoveryBin> RecoveryBins { get; init; } = [];
    public IReadOnlyList<ProductFileRow> Products { get; init; } = [];
    public IReadOnlyList<CutoutSet> Cutouts { get; init; } = [];
    /// <summary>Why cutouts are missing or partial (unreadable products), for the page to say.</summary>
    public IReadOnlyList<string> CutoutNotes { get; init; } = [];
    public required NightVerdict Verdict { get; init; }
    /// <summary>Attempts per pipeline from the operations record (every plan, resubmission and Batch retry).</summary>
    public IReadOnlyList<AttemptSummary> Attempts { get; init; } = [];
    /// <summary>The QC log patterns that matched the night's job logs, one row per pattern.</summary>
    public IReadOnlyList<QcGroup> Qc { get; init; } = [];
}

/// <summary>One pipeline's attempts: how many jobs ran more than once, and how long attempts waited to start.</summary>
/// <param name="MedianQueueSeconds">Median time from submission to start over the attempts that started; null when none did.</param>
public sealed record AttemptSummary(int Ppid, int Jobs, int Attempts, int Resubmitted, int Failed, double? MedianQueueSeconds, double? WallSeconds);

/// <summary>One QC pattern's matches on the night: how many, in how many jobs, the first line and the log it is in.</summary>
public sealed record QcGroup(string Pattern, string Severity, string? Description, int Matches, int Jobs, long FirstJid, string FirstText, ObjectRef? FirstLog);

/// <summary>One job: its pipeline, what it was about, how it ended and when it ran (times null when it never started).</summary>
public sealed record JobRun(
    long Jid, int Ppid, JobOutcomeClass Outcome, int? ExitCode, string? Reason, long? Rid, long? Field, int? Fid, long? ParentJid,
    DateTimeOffset? Launched, DateTimeOffset? Started, DateTimeOffset? Ended, double? ElapsedSeconds, double? CpuSeconds, long? PeakMemoryBytes)
{
    /// <summary>What the job was about: "rid 12" (science), "field 5 fid 2" (reference), "of jid 7" (post-processing), else "the night".</summary>
    public string Subject => Rid is { } rid ? $"rid {rid}" : Field is { } f ? $"field {f} fid {Fid}" : ParentJid is { } p ? $"of jid {p}" : "the night";
}

/// <summary>The night at a glance: what was processed, what it made and what it cost.</summary>
/// <param name="ScienceImages">Distinct L2 images the night's science jobs were given.</param>
/// <param name="JobHours">Sum of the jobs' wall hours.</param>
/// <param name="CpuHours">Sum of the jobs' measured CPU hours; null when no manifest said.</param>
/// <param name="VcpuHours">Sum over jobs of wall hours times the vCPUs their job definition reserves; null when not configured.</param>
public sealed record NightGlance(
    int ScienceImages, int DifferenceImages, int ReferenceImages, long SourcesFound,
    IReadOnlyList<PipelineOutcomes> Pipelines, long ProductFiles, long ProductBytes,
    DateTimeOffset? FirstStart, DateTimeOffset? LastEnd, double JobHours, double? CpuHours, double? VcpuHours, long? PeakMemoryBytes,
    IReadOnlyList<WarningCount> Warnings)
{
    public TimeSpan? Span => FirstStart is { } a && LastEnd is { } b ? b - a : null;
    public int TotalJobs => Pipelines.Sum(p => p.Total);
}

/// <summary>Jobs of one pipeline by outcome.</summary>
public sealed record PipelineOutcomes(int Ppid, IReadOnlyDictionary<JobOutcomeClass, int> Counts)
{
    public int Total => Counts.Values.Sum();
    public int this[JobOutcomeClass outcome] => Counts.GetValueOrDefault(outcome);
}

/// <summary>
/// Failed, lost and still-open jobs that share a pipeline, an exit code and a reason (numbers, paths and ids in the reason
/// replaced, so "rid 12" and "rid 13" group together); the first job's log tail shown for all.
/// </summary>
public sealed record FailureGroup(int Ppid, JobOutcomeClass Outcome, int? ExitCode, string Pattern, IReadOnlyList<JobRun> Jobs, LogExcerpt? Log);

/// <summary>The end of one job's log, and where the whole log is.</summary>
public sealed record LogExcerpt(long Jid, ObjectRef Location, IReadOnlyList<string> Lines, bool Truncated, string? Error);

/// <summary>
/// One science job's quality figures, from the registered difference image's metadata and its injection-recovery.
/// Null where the job made no difference image (or did not inject).
/// </summary>
public sealed record ImageQuality
{
    public required long Jid { get; init; }
    public required long Rid { get; init; }
    public long? Pid { get; init; }
    public required string Filter { get; init; }
    /// <summary>The L2 image the job differenced (cutouts' science panel).</summary>
    public ObjectRef? ScienceFile { get; init; }
    public long? Field { get; init; }
    public int? Sca { get; init; }
    public required JobOutcomeClass Outcome { get; init; }
    public int? ExitCode { get; init; }
    public double? Ra { get; init; }
    public double? Dec { get; init; }
    /// <summary>Flux scale the job applied to the reference (reference to science).</summary>
    public double? FluxScale { get; init; }
    /// <summary>The same predicted from the zero points (science ZPTMAG, reference zero point): 10^(−0.4 (ZP_ref − ZP_sci)).</summary>
    public double? PredictedFluxScale { get; init; }
    public double? FwhmScience { get; init; }
    public double? FwhmReference { get; init; }
    /// <summary>√(dx_rms² + dy_rms²) of the matched stars, pixels.</summary>
    public double? AstrometricRms { get; init; }
    public int? Sources { get; init; }
    public int? FakesInjected { get; init; }
    public int? FakesFound { get; init; }
    public double? Mag50 { get; init; }
    public double? FakeFluxBias { get; init; }
    /// <summary>Positive detections matching no fake (nor, on simulated data, a truth object).</summary>
    public int? Unexplained { get; init; }
    public double? AreaDeg2 { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public double? FluxScaleRatio => FluxScale is { } s && PredictedFluxScale is { } p && p > 0 ? s / p : null;
    public double? FakeCompleteness => FakesInjected is > 0 and { } n && FakesFound is { } f ? f / (double)n : null;
    public double? UnexplainedPerDeg2 => Unexplained is { } u && AreaDeg2 is > 0 and { } a ? u / a : null;

    /// <summary>Set by <see cref="ImageVerdicts"/>.</summary>
    public ImageVerdict Verdict { get; init; } = ImageVerdict.Good;
    /// <summary>Why the verdict is not good, one line per reason.</summary>
    public IReadOnlyList<string> VerdictReasons { get; init; } = [];
    /// <summary>The figures that are outliers of the night (per filter), by <see cref="QualityFigure"/>.</summary>
    public IReadOnlySet<QualityFigure> Outliers { get; init; } = new HashSet<QualityFigure>();
}

/// <summary>The figures of <see cref="ImageQuality"/> that verdicts and outlier flags refer to.</summary>
public enum QualityFigure { FluxScaleRatio, FwhmScience, AstrometricRms, FakeCompleteness, Mag50, UnexplainedPerDeg2 }

/// <summary>An image's verdict; NotRated when there is nothing to judge (no reference image was possible).</summary>
public enum ImageVerdict { Good, Suspect, Bad, NotRated }

/// <summary>One product file of a job, as registered.</summary>
public sealed record ProductFileRow(long Jid, int Ppid, string Role, ObjectRef File, long SizeBytes, string Sha256);

/// <summary>What a set of cutouts is of.</summary>
public static class CutoutKinds
{
    public const string Detection = "detection";
    public const string MissedFake = "missed fake";
}

/// <summary>Cutouts around one position of one image: science, reference, difference and S_corr, same pixels.</summary>
/// <param name="Kind">A <see cref="CutoutKinds"/> value.</param>
/// <param name="X">0-based pixel position on the science image.</param>
public sealed record CutoutSet(string Kind, long Jid, long Rid, string Filter, double X, double Y, double? Ra, double? Dec,
    string Figure, IReadOnlyList<CutoutPanel> Panels);

/// <summary>One stamp: what it shows and its PNG (null when the product could not be read).</summary>
public sealed record CutoutPanel(string Title, byte[]? Png, string? Note);
