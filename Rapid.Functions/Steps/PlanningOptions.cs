using Rapid.Core.Contracts;

namespace Rapid.Functions.Steps;

/// <summary>Settings of the plan steps; defaults follow the original system's ini files.</summary>
public sealed record PlanningOptions
{
    /// <summary>Reference (tile) grid size in pixels; the original used 7000x7000 at 0.11"/px.</summary>
    public int TileNaxis1 { get; init; } = 7000;
    public int TileNaxis2 { get; init; } = 7000;
    public double PixelScaleArcsec { get; init; } = 0.11;

    /// <summary>Reference inputs: image centres within this angle (deg) of the tile centre (the original's 0.18).</summary>
    public double ReferenceRadiusDeg { get; init; } = 0.18;

    /// <summary>Passed to every job; MinReferenceInputs/MaxReferenceInputs also bound the planned inputs.</summary>
    public PipelineSettings Pipeline { get; init; } = new();

    /// <summary>The name of the settings profile <see cref="Pipeline"/> came from (recorded in every job config); null for the defaults.</summary>
    public string? SettingsProfile { get; init; }

    /// <summary>
    /// Fake sources every science job injects (the original's FAKE_SOURCES); null or disabled for none. Each job's
    /// seed is derived from this seed and the image's rid, so reprocessing an image injects the same sources.
    /// </summary>
    public FakeSourcesConfig? FakeSources { get; init; } = new();

    /// <summary>Width (mag) of the night's completeness bins.</summary>
    public double CompletenessBinWidthMag { get; init; } = 0.25;

    /// <summary>Plan again jobs that already registered products on this processing date.</summary>
    public bool Force { get; init; }

    /// <summary>Most children of one array job (AWS Batch's limit); larger plans are also written in chunks.</summary>
    public int MaxArraySize { get; init; } = JobListChunker.BatchMaxArraySize;

    /// <summary>The run (<c>runs.runid</c>) the plans belong to: their attempts and files are recorded under it; null outside a run.</summary>
    public long? RunId { get; init; }

    /// <summary>Job configs written at once.</summary>
    public int ConfigWriteParallelism { get; init; } = 16;
}
