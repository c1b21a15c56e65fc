using System.Text.Json;
using System.Text.Json.Serialization;
using Rapid.Core.Contracts;

namespace Rapid.Cli.Diff;

/// <summary>
/// The manifest.json <c>rapid diff</c> leaves in its outdir: the job's manifest with local file names in place of
/// object URIs, the inputs as given, the settings used, the wall time and the peak memory of the run.
/// In the job's results rid 1 is the science image, rids 2, 3, ... the reference inputs in the order given,
/// and rfid 0 a reference image given as a file.
/// </summary>
public sealed record DiffManifest
{
    /// <summary>2: warnings with their kind.</summary>
    public const int CurrentSchemaVersion = 2;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    public required int ExitCode { get; init; }
    public string? Reason { get; init; }
    public IReadOnlyList<JobWarning> Warnings { get; set; } = [];
    public required DiffManifestInputs Inputs { get; init; }
    public required PipelineSettings Settings { get; init; }
    public IReadOnlyList<DiffProduct> Products { get; set; } = [];
    public DifferenceImageResult? DifferenceImage { get; init; }
    public ReferenceImageResult? ReferenceImage { get; init; }
    /// <summary>Wall time per pipeline step (seconds), in the order the steps ran.</summary>
    public IReadOnlyDictionary<string, double> StepSeconds { get; set; } = new Dictionary<string, double>();
    /// <summary>CPU time per step (seconds, all threads).</summary>
    public IReadOnlyDictionary<string, double> StepCpuSeconds { get; set; } = new Dictionary<string, double>();
    public DateTimeOffset Started { get; init; }
    public DateTimeOffset Ended { get; init; }
    /// <summary>The whole command: checks, staging, the job, moving the products.</summary>
    public double WallSeconds { get; init; }
    /// <summary>CPU time of the whole command (seconds, all threads).</summary>
    public double CpuSeconds { get; init; }
    /// <summary>Peak resident memory of the process (VmHWM), bytes; 0 where the OS does not say.</summary>
    public long PeakMemoryBytes { get; init; }
    public string SoftwareVersion { get; set; } = "";
}

public sealed record DiffManifestInputs
{
    public required string Science { get; init; }
    public IReadOnlyList<string> ReferenceInputs { get; set; } = [];
    public string? ReferenceImage { get; init; }
    public string? ReferenceCoverage { get; init; }
    public string? ReferenceUncertainty { get; init; }
    public string? SciencePsf { get; init; }
    public string? ReferencePsf { get; init; }
    /// <summary>"science" or "tile {field} {n}x{n}": the grid a co-added reference was made on.</summary>
    public string? ReferenceGrid { get; init; }
}

/// <summary>A product file in the outdir (its name) with its size and digests.</summary>
public sealed record DiffProduct(string Role, string File, long SizeBytes, string Sha256, string Md5);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(DiffManifest))]
internal sealed partial class DiffJsonContext : JsonSerializerContext
{
    public static byte[] Serialize(DiffManifest manifest) => JsonSerializer.SerializeToUtf8Bytes(manifest, Default.DiffManifest);

    public static DiffManifest Read(string path) =>
        JsonSerializer.Deserialize(File.ReadAllBytes(path), Default.DiffManifest) ?? throw new InvalidDataException($"{path}: empty manifest");
}
