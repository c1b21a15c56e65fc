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

    /// <summary>
    /// Plan again jobs that already registered products on this processing date, and reference images for the night's
    /// (field, filter) pairs that already have a best one (a new version, best unless the current one is locked).
    /// </summary>
    public bool Force { get; init; }

    /// <summary>
    /// Re-make a best reference image when better inputs exist (the original's superior-reference launcher): at least
    /// <see cref="SuperiorReferenceMinExtraFrames"/> more than it co-added, or a 5th-percentile coverage predicted from the
    /// inputs' footprints at least <see cref="SuperiorReferenceMinCoverageGain"/> frames higher than its own inputs'
    /// (<see cref="ReferenceCoveragePrediction"/>). Locked references are kept.
    /// </summary>
    public bool SuperiorReferences { get; init; }

    public int SuperiorReferenceMinExtraFrames { get; init; } = 3;

    public double SuperiorReferenceMinCoverageGain { get; init; } = 1.0;

    /// <summary>
    /// The MJD range [start, end) reference inputs are taken from (the original's STARTREFIMMJDOBS/ENDREFIMMJDOBS), for
    /// reference images and for science jobs that co-add their own; null: every image observed before the night.
    /// </summary>
    public (double Start, double End)? ReferenceInputsMjd { get; init; }

    /// <summary>"START:END" (MJDs, START before END) as a range; anything else is an error naming <paramref name="what"/>.</summary>
    public static (double Start, double End) ParseMjdRange(string text, string what)
    {
        var parts = text.Split(':');
        if (parts.Length == 2
            && double.TryParse(parts[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var start)
            && double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var end)
            && double.IsFinite(start) && double.IsFinite(end) && start < end)
            return (start, end);
        throw new ArgumentException($"{what} {text}: expected START:END, two MJDs with START before END (e.g. 61000:61100)");
    }

    /// <summary>
    /// A scheduled night (<see cref="ResolvedWindow.Scheduled"/>): plan the window's images still waiting for a science job
    /// (late arrivals included) and the images this processing date already planned, not every image observed in the window.
    /// </summary>
    public bool Scheduled { get; init; }

    /// <summary>Most children of one array job (AWS Batch's limit); larger plans are also written in chunks.</summary>
    public int MaxArraySize { get; init; } = JobListChunker.BatchMaxArraySize;

    /// <summary>The run (<c>runs.runid</c>) the plans belong to: their attempts and files are recorded under it; null outside a run.</summary>
    public long? RunId { get; init; }

    /// <summary>
    /// The one submitted job (<c>rapid submit</c>, the API, a landed image) this run's plans are restricted to; null: the
    /// window's whole night (<see cref="SubmittedJob"/> says what each planner plans for it).
    /// </summary>
    public SubmittedJob? Submission { get; init; }

    /// <summary>Job configs written at once.</summary>
    public int ConfigWriteParallelism { get; init; } = 16;
}
