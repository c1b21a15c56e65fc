using System.Reflection;
using System.Text.Json.Serialization;
using Rapid.Core.Storage;

namespace Rapid.Core.Contracts;

/// <summary>
/// What a job made and how it ran: written last by every job (also on failure), read by registration. The envelope is
/// common to every pipeline (exit code, typed warnings, timeline with wall and CPU seconds per step, resources,
/// software, settings, where it ran); <see cref="Outcome"/> is the pipeline's own result, present when the job has
/// products. Registration of one manifest is one transaction keyed on the job id.
/// Schema 3 replaced schema 2's optional per-pipeline sections, text warnings and step seconds; schema 1 and 2
/// manifests still read, through <see cref="Schema2.ProductManifestV2"/>.
/// </summary>
public sealed record ProductManifest
{
    public const int CurrentSchemaVersion = 3;
    public const int MinSupportedSchemaVersion = 1;

    [JsonPropertyOrder(-4)]
    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    [JsonPropertyOrder(-3)]
    public required long Jid { get; init; }
    [JsonPropertyOrder(-2)]
    public required int Ppid { get; init; }
    [JsonPropertyOrder(-1)]
    public required string ProcDate { get; init; }
    public required int ExitCode { get; init; }
    /// <summary>Why the job failed; null on success and on warnings (see <see cref="Warnings"/>).</summary>
    public string? Reason { get; init; }
    /// <summary>Degraded results, each with its kind (exit 32 when any).</summary>
    public IReadOnlyList<JobWarning> Warnings { get; set; } = [];
    public DateTimeOffset Started { get; init; }
    public DateTimeOffset Ended { get; init; }

    /// <summary>The Batch job (or local stand-in) that ran this job, and which attempt.</summary>
    public BatchRun Batch { get; set; } = new();
    /// <summary>The machine the job ran on.</summary>
    public HostInfo Host { get; set; } = new();
    public SoftwareInfo Software { get; set; } = new();

    /// <summary>SHA-256 of the job config the job ran (empty when it could not be read).</summary>
    public string ConfigSha256 { get; set; } = "";
    /// <summary>The pipeline settings in force (from the config); null when the config could not be read.</summary>
    public PipelineSettings? Settings { get; init; }

    /// <summary>The whole job's wall and CPU seconds and peak memory.</summary>
    public JobResources Resources { get; set; } = new();
    /// <summary>The job's steps in the order they started, with start and end times and wall and CPU seconds.</summary>
    public IReadOnlyList<StepRecord> Timeline { get; set; } = [];

    public IReadOnlyList<ProductFile> Products { get; set; } = [];

    /// <summary>The pipeline's own result; present exactly when the job has products.</summary>
    public JobOutcome? Outcome { get; init; }

    /// <summary>Wall and CPU seconds per step name, summed over the step's runs, in the order steps first started.</summary>
    public IReadOnlyList<StepTotal> StepTotals() =>
        Timeline.GroupBy(s => s.Name).Select(g => new StepTotal(g.Key, g.Sum(s => s.WallSeconds), g.Sum(s => s.CpuSeconds), g.Count())).ToList();
}

public sealed record ProductFile(string Role, ObjectRef File, FileChecksum Checksum);

/// <summary>A degraded result of a job: what kind (for counting and alarms) and what happened (for people).</summary>
public sealed record JobWarning(JobWarningKind Kind, string Message);

/// <summary>
/// Kinds of warnings a job ends with (exit 32). Adding one: a member here with its JSON name; the job calls
/// <c>JobContext.Warn(kind, message)</c>; registration stores the name in <c>jobwarnings.kind</c> and the night's summary
/// counts them per kind. Names are stable: they are in manifests and the ops database.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<JobWarningKind>))]
public enum JobWarningKind
{
    /// <summary>A PSF fell back to a model (too few bright isolated stars) or failed a sanity check.</summary>
    [JsonStringEnumMemberName("psf")] Psf,
    /// <summary>The science/reference flux scale fell back (too few matched stars) or failed a sanity check.</summary>
    [JsonStringEnumMemberName("flux_scale")] FluxScale,
    /// <summary>Astrometric registration of science and reference failed a sanity check.</summary>
    [JsonStringEnumMemberName("astrometry")] Astrometry,
    /// <summary>Much of the difference image is masked (low reference coverage, bad, saturated or cosmic-ray pixels).</summary>
    [JsonStringEnumMemberName("coverage")] Coverage,
    /// <summary>Fake sources could not be injected (no zero point, no room).</summary>
    [JsonStringEnumMemberName("fake_sources")] FakeSources,
    /// <summary>Only in manifests read from schema 1–2, whose text warnings name no known kind.</summary>
    [JsonStringEnumMemberName("unclassified")] Unclassified,
}

/// <summary>The stable names of <see cref="JobWarningKind"/>s, as in manifests and <c>jobwarnings.kind</c>.</summary>
public static class JobWarningKinds
{
    private static readonly Dictionary<JobWarningKind, string> Names = Enum.GetValues<JobWarningKind>().ToDictionary(k => k,
        k => typeof(JobWarningKind).GetField(k.ToString())!.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()!.Name);

    public static string Name(JobWarningKind kind) => Names[kind];
}

/// <summary>Where and how often AWS Batch (or the local executor) ran the job.</summary>
public sealed record BatchRun
{
    /// <summary>AWS_BATCH_JOB_ID (array children: "parent:index"); "local-..." in embedded mode.</summary>
    public string? JobId { get; init; }
    /// <summary>AWS_BATCH_JOB_ATTEMPT, from 1.</summary>
    public int Attempt { get; set; } = 1;
    /// <summary>The array index the job ran as; null for a single job.</summary>
    public int? ArrayIndex { get; init; }
    /// <summary>AWS_BATCH_CE_NAME and AWS_BATCH_JQ_NAME, where Batch sets them.</summary>
    public string? ComputeEnvironment { get; init; }
    public string? JobQueue { get; init; }
}

/// <summary>The machine a job ran on.</summary>
public sealed record HostInfo
{
    public string Name { get; set; } = "";
    public int ProcessorCount { get; init; }
}

public sealed record SoftwareInfo
{
    /// <summary>The pipeline's version (assembly informational version).</summary>
    public string Version { get; set; } = "";
    /// <summary>The git commit it was built from; null when the build did not know it.</summary>
    public string? GitCommit { get; init; }

    /// <summary>
    /// The suffix a build gives the commit when the working tree had uncommitted changes to tracked files: the local
    /// build (Directory.Build.props) and the pipeline image's revision (the CDK app's SourceRevision) alike.
    /// </summary>
    public const string DirtySuffix = "-dirty";

    /// <summary>
    /// From an informational version: the .NET SDK appends "+{commit}" when it builds from a git checkout
    /// (SourceRevisionId); a build without one (e.g. a container build without .git) has no commit. A build from a
    /// changed working tree appends <see cref="DirtySuffix"/>: the commit is still named, and the version keeps the mark.
    /// </summary>
    public static SoftwareInfo Parse(string informationalVersion)
    {
        var plus = informationalVersion.IndexOf('+');
        var commit = plus < 0 ? null : informationalVersion[(plus + 1)..];
        if (commit is not null && commit.EndsWith(DirtySuffix, StringComparison.Ordinal)) commit = commit[..^DirtySuffix.Length];
        return new SoftwareInfo
        {
            Version = informationalVersion,
            GitCommit = commit is { Length: >= 7 } && commit.All(char.IsAsciiHexDigit) ? commit.ToLowerInvariant() : null,
        };
    }
}

/// <summary>The whole job: wall seconds (started → ended), CPU seconds of the process (all threads), peak resident memory.</summary>
public sealed record JobResources
{
    public double WallSeconds { get; init; }
    public double CpuSeconds { get; init; }
    /// <summary>Bytes (VmHWM on Linux); 0 where the OS does not say.</summary>
    public long PeakMemoryBytes { get; init; }
}

/// <summary>One run of a named step: the job's in-job state between <see cref="Started"/> and <see cref="Ended"/>.</summary>
public sealed record StepRecord(string Name, DateTimeOffset Started, DateTimeOffset Ended, double WallSeconds, double CpuSeconds);

/// <summary>A step's runs summed.</summary>
public sealed record StepTotal(string Name, double WallSeconds, double CpuSeconds, int Runs);
