using Rapid.Core.Contracts;
using Rapid.Functions.Api;

namespace Rapid.Cli.Diff;

/// <summary>
/// What <c>rapid diff</c> is asked to do, as local paths: a science image and either the images to co-add
/// into a reference (<see cref="ReferenceInputs"/>) or an existing reference (<see cref="ReferenceImage"/>,
/// with its optional coverage and uncertainty maps). PSF files are optional (estimated from the images otherwise).
/// </summary>
public sealed record DiffRequest
{
    public required string Science { get; init; }
    public IReadOnlyList<string> ReferenceInputs { get; init; } = [];
    public string? ReferenceImage { get; init; }
    public string? ReferenceCoverage { get; init; }
    public string? ReferenceUncertainty { get; init; }
    public string? SciencePsf { get; init; }
    public string? ReferencePsf { get; init; }
    public required string OutDirectory { get; init; }
    /// <summary>Replace an outdir that already holds files (otherwise that is an error).</summary>
    public bool Overwrite { get; init; }
    /// <summary>Co-add onto the sky tile grid (this many pixels square) of the science image's field instead of the science grid.</summary>
    public int? TileGridPixels { get; init; }
    /// <summary>Injected sources to measure (as the nightly jobs' injection-recovery; 0 none).</summary>
    public int FakeSources { get; init; }
    public PipelineSettings Settings { get; init; } = new();
    /// <summary>The name of the settings profile <see cref="Settings"/> started from (recorded in the job config), if any.</summary>
    public string? SettingsProfile { get; init; }

    public bool CoaddsReference => ReferenceImage is null;

    /// <summary>Throws ArgumentException naming the first inconsistent option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Science)) throw new ArgumentException("diff: --science is required");
        if (string.IsNullOrWhiteSpace(OutDirectory)) throw new ArgumentException("diff: --out is required");
        if (ReferenceImage is null && ReferenceInputs.Count == 0)
            throw new ArgumentException("diff: give the reference, either --reference in1.fits in2.fits ... (co-added) or --reference-image ref.fits");
        if (ReferenceImage is not null && ReferenceInputs.Count > 0)
            throw new ArgumentException("diff: --reference and --reference-image exclude each other");
        if (ReferenceImage is null && (ReferenceCoverage is not null || ReferenceUncertainty is not null))
            throw new ArgumentException("diff: --reference-coverage and --reference-uncertainty go with --reference-image");
        if (TileGridPixels is not null && ReferenceImage is not null)
            throw new ArgumentException("diff: --tile-grid is for a co-added reference (--reference), not --reference-image");
        if (TileGridPixels is < 64) throw new ArgumentException($"diff: --tile-grid {TileGridPixels}: must be at least 64 pixels");
        var outFull = Path.GetFullPath(OutDirectory);
        foreach (var input in AllInputs())
            if (string.Equals(Path.GetFullPath(input.Path), outFull, StringComparison.Ordinal))
                throw new ArgumentException($"diff: --out {OutDirectory} is one of the inputs");
    }

    /// <summary>Every input file with what it is for.</summary>
    public IEnumerable<(string Path, DiffInputRole Role)> AllInputs()
    {
        yield return (Science, DiffInputRole.Science);
        foreach (var r in ReferenceInputs) yield return (r, DiffInputRole.ReferenceInput);
        if (ReferenceImage is not null) yield return (ReferenceImage, DiffInputRole.ReferenceImage);
        if (ReferenceCoverage is not null) yield return (ReferenceCoverage, DiffInputRole.ReferenceMap);
        if (ReferenceUncertainty is not null) yield return (ReferenceUncertainty, DiffInputRole.ReferenceMap);
        if (SciencePsf is not null) yield return (SciencePsf, DiffInputRole.Psf);
        if (ReferencePsf is not null) yield return (ReferencePsf, DiffInputRole.Psf);
    }
}

