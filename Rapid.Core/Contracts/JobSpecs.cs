using System.Text.Json.Serialization;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Core.Contracts;

/// <summary>
/// What one pipeline asks of a job: one sealed record per pipeline, written as <c>"spec": {"pipeline": "science", ...}</c>.
/// The pipeline name is the JSON discriminator and <see cref="Ppid"/> follows from the type, so a config cannot say one
/// pipeline and carry another's input. Adding a pipeline: a record here, a <see cref="JsonDerivedTypeAttribute"/> line,
/// a planner (Rapid.Functions.Steps) and a job (Rapid.Pipeline.Jobs).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "pipeline", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(ReferenceImageSpec), PipelineNames.ReferenceImage)]
[JsonDerivedType(typeof(ScienceSpec), PipelineNames.Science)]
[JsonDerivedType(typeof(PostProcessingSpec), PipelineNames.PostProcessing)]
[JsonDerivedType(typeof(NightRecoverySpec), PipelineNames.NightRecovery)]
public abstract record JobSpec
{
    /// <summary>The pipeline (ppid) this spec is for.</summary>
    [JsonIgnore]
    public abstract int Ppid { get; }
}

/// <summary>ppid 12: co-add earlier images of one field and filter onto its sky tile's grid.</summary>
public sealed record ReferenceImageSpec : JobSpec
{
    public override int Ppid => PipelineIds.ReferenceImage;

    /// <summary>The sky tile whose grid the reference image is co-added onto.</summary>
    public required TileGrid Tile { get; init; }

    /// <summary>Earlier images of the same field and filter, nearest the tile centre first.</summary>
    public IReadOnlyList<L2Image> Inputs { get; set; } = [];
}

/// <summary>ppid 15: difference imaging of one L2 image against a registered reference or one co-added on the fly.</summary>
public sealed record ScienceSpec : JobSpec
{
    public override int Ppid => PipelineIds.Science;

    public required L2Image Science { get; init; }

    /// <summary>The sky tile grid a reference is co-added onto; null: onto the science image's own grid (<c>rapid diff</c>).</summary>
    public TileGrid? Tile { get; init; }

    /// <summary>The registered reference image, or the earlier images to co-add into one.</summary>
    public required ReferenceSource Reference { get; init; }

    /// <summary>Fake point sources to inject before subtraction (the original's FAKE_SOURCES); null: none.</summary>
    public FakeSourcesConfig? FakeSources { get; init; }
}

/// <summary>ppid 17: stamp one earlier job's registered products with their database ids and copy them to canonical names.</summary>
public sealed record PostProcessingSpec : JobSpec
{
    public override int Ppid => PipelineIds.PostProcessing;

    public required long SourceJid { get; init; }
    public required int SourcePpid { get; init; }
    public IReadOnlyList<ProductToStamp> Products { get; set; } = [];
}

/// <summary>ppid 18: merge the night's per-job injection-recovery tables into one and score completeness per filter.</summary>
public sealed record NightRecoverySpec : JobSpec
{
    public override int Ppid => PipelineIds.NightRecovery;

    public IReadOnlyList<RecoveryTableRef> Tables { get; set; } = [];

    /// <summary>Width of the completeness bins (mag).</summary>
    public double BinWidthMag { get; set; } = 0.25;
}

/// <summary>An L2 (single-SCA) image registered in <c>l2files</c>.</summary>
public sealed record L2Image
{
    public required long Rid { get; init; }
    public long Expid { get; init; }
    public int Sca { get; init; }
    public int Fid { get; init; }
    public string Filter { get; set; } = "";
    public long Field { get; init; }
    public double MjdObs { get; init; }
    public double ExpTime { get; init; }
    public required ObjectRef File { get; init; }
    /// <summary>MD5 of the file as registered; the job checks it before use when present.</summary>
    public string? Md5 { get; init; }
    /// <summary>
    /// A PSF for this image (FITS image, primary HDU or SCI; a stamp centred on its central pixel, any normalisation),
    /// used instead of the PSF estimated from the image. Null: estimate it.
    /// </summary>
    public ObjectRef? Psf { get; init; }
}

/// <summary>
/// A north-up TAN grid centred on a sky tile (the original used 7000x7000 px at 0.11"/px).
/// CRPIX is the grid centre: ((Naxis1 + 1) / 2, (Naxis2 + 1) / 2) in 1-based FITS pixels.
/// </summary>
public sealed record TileGrid
{
    public required long Field { get; init; }
    public required double CenterRaDeg { get; init; }
    public required double CenterDecDeg { get; init; }
    public required int Naxis1 { get; init; }
    public required int Naxis2 { get; init; }
    public required double PixelScaleArcsec { get; init; }
}

/// <summary>Either a registered reference image (Rfid and its files) or the inputs to co-add.</summary>
public sealed record ReferenceSource
{
    public long? Rfid { get; init; }
    public int? Version { get; init; }
    public ObjectRef? Image { get; init; }
    public ObjectRef? Coverage { get; init; }
    public ObjectRef? Uncertainty { get; init; }
    /// <summary>A PSF for the reference image (as <see cref="L2Image.Psf"/>), for the registered image or the co-add. Null: estimate it.</summary>
    public ObjectRef? Psf { get; init; }

    /// <summary>Earlier images of the same field and filter, nearest the tile centre first.</summary>
    public IReadOnlyList<L2Image> Inputs { get; set; } = [];

    public bool IsRegistered => Rfid is not null && Image is not null;
}

public sealed record ProductToStamp
{
    /// <summary>A <see cref="ProductRoles"/> value.</summary>
    public required string Role { get; init; }
    public required ObjectRef Source { get; init; }
    public required ObjectRef Target { get; init; }
    /// <summary>FITS keywords to add or replace in the primary header (e.g. RFID, PID, RFIMVER).</summary>
    public IReadOnlyDictionary<string, string> Keywords { get; set; } = new Dictionary<string, string>();
}

/// <summary>
/// The original's FAKE_SOURCES section: how many point sources a science job injects and where. Magnitudes are
/// drawn uniformly between the image's estimated 5σ point-source limit plus <see cref="BrightOffsetMag"/> and
/// plus <see cref="FaintOffsetMag"/> (so they straddle the detection limit whatever the depth), unless
/// <see cref="BrightMag"/> and <see cref="FaintMag"/> (AB) fix the range. The seed is per job (the planner
/// derives it from <see cref="Seed"/> and the rid), and the manifest records it.
/// </summary>
public sealed record FakeSourcesConfig
{
    public bool Enabled { get; set; } = true;
    public int Count { get; set; } = 50;
    public double BrightOffsetMag { get; set; } = -2.5;
    public double FaintOffsetMag { get; set; } = 1.0;
    public double? BrightMag { get; set; }
    public double? FaintMag { get; set; }
    /// <summary>Sources stay at least this far (pixels) from the image edges.</summary>
    public int EdgeMarginPixels { get; set; } = 32;
    /// <summary>Injected sources stay at least this far (pixels) from each other.</summary>
    public double MinSeparationPixels { get; set; } = 12;
    /// <summary>An injected source counts as found when a positive detection lies within this radius (pixels).</summary>
    public double MatchRadiusPixels { get; set; } = 1.0;
    public long Seed { get; set; } = 1;
}

/// <summary>One science job's registered injection-recovery table.</summary>
public sealed record RecoveryTableRef
{
    public required long Jid { get; init; }
    public required long Rid { get; init; }
    public required int Fid { get; init; }
    public string Filter { get; set; } = "";
    public required ObjectRef File { get; init; }
    /// <summary>Science image area (deg²) and positive detections matched to neither a fake nor a truth object.</summary>
    public double AreaDeg2 { get; init; }
    public int UnmatchedPositive { get; init; }
}
