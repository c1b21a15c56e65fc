using Rapid.Core.Pipelines;

namespace Rapid.Core.Contracts.Schema2;

/// <summary>
/// A job config of schema 1 or 2, as planners wrote it before schema 3: one optional section per pipeline
/// (12 = Tile + Reference.Inputs; 15 = Science + Tile + Reference (+ FakeSources); 17 = PostProcessing;
/// 18 = NightRecovery). Read only, then turned into a <see cref="JobConfig"/> by <see cref="ToCurrent"/>, so a job
/// of this release still runs a config planned by the previous one.
/// </summary>
public sealed record JobConfigV2
{
    public int SchemaVersion { get; set; }
    public required long Jid { get; init; }
    public required int Ppid { get; init; }
    public required string ProcDate { get; init; }
    public L2Image? Science { get; init; }
    public TileGrid? Tile { get; init; }
    public ReferenceSource? Reference { get; init; }
    public PostProcessingInputV2? PostProcessing { get; init; }
    public FakeSourcesConfig? FakeSources { get; init; }
    public NightRecoveryInputV2? NightRecovery { get; init; }
    public PipelineSettings Settings { get; set; } = new();

    /// <summary>The same job in schema 3; a section its ppid needs but lacks is named in the exception.</summary>
    public JobConfig ToCurrent(string source)
    {
        JobSpec spec = Ppid switch
        {
            PipelineIds.ReferenceImage => new ReferenceImageSpec
            {
                Tile = Tile ?? throw Missing(source, "tile"),
                Inputs = (Reference ?? throw Missing(source, "reference")).Inputs,
            },
            PipelineIds.Science => new ScienceSpec
            {
                Science = Science ?? throw Missing(source, "science"),
                Tile = Tile,
                Reference = Reference ?? throw Missing(source, "reference"),
                FakeSources = FakeSources,
            },
            PipelineIds.PostProcessing => PostProcessing is { } p
                ? new PostProcessingSpec { SourceJid = p.SourceJid, SourcePpid = p.SourcePpid, Products = p.Products }
                : throw Missing(source, "postProcessing"),
            PipelineIds.NightRecovery => NightRecovery is { } n
                ? new NightRecoverySpec { Tables = n.Tables, BinWidthMag = n.BinWidthMag }
                : throw Missing(source, "nightRecovery"),
            _ => throw new InvalidDataException($"{source}: ppid {Ppid} is not a pipeline"),
        };
        return new JobConfig { Jid = Jid, ProcDate = ProcDate, Spec = spec, Settings = Settings };
    }

    private InvalidDataException Missing(string source, string section) =>
        new($"{source}: a schema-{SchemaVersion} config of ppid {Ppid} has no '{section}' section");
}

/// <summary>Schema 2's post-processing section.</summary>
public sealed record PostProcessingInputV2
{
    public required long SourceJid { get; init; }
    public required int SourcePpid { get; init; }
    public IReadOnlyList<ProductToStamp> Products { get; set; } = [];
}

/// <summary>Schema 2's night-recovery section.</summary>
public sealed record NightRecoveryInputV2
{
    public IReadOnlyList<RecoveryTableRef> Tables { get; set; } = [];
    public double BinWidthMag { get; set; } = 0.25;
}
