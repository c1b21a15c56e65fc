using Rapid.Cli.Diff;

namespace Rapid.Cli.Bench.ImageSets;

/// <summary>
/// The independent image sets issue 11's targets are measured on: one science image and four reference frames per
/// renderer, each with a focal-plane TAN-SIP WCS (~100 px of distortion, CRPIX far off the chip), references dithered by
/// tens of pixels and rolled by up to 2 degrees, saturated stars, variable stars and 150 transients of known flux.
/// The quality tests and <c>rapid bench images</c> both use these.
/// </summary>
public static class IndependentImageSets
{
    /// <summary>An undersampled Gaussian (photutils), an elliptical one in a SCI extension with a 5th-order SIP (fitsh), a broad Moffat (gnuastro).</summary>
    public static readonly ImageSetSpec[] Standard =
    [
        new() { Renderer = ImageSetRenderers.Photutils, Seed = 31, ScienceFwhm = 1.2, ReferenceFwhm = 1.5 },
        new() { Renderer = ImageSetRenderers.Fitsh, Seed = 32, ScienceFwhm = 2.0, ReferenceFwhm = 1.6, SipOrder = 5, DitherPx = 40, HeaderStyle = "extension" },
        new() { Renderer = ImageSetRenderers.Gnuastro, Seed = 33, ScienceFwhm = 2.8, ReferenceFwhm = 2.2, ScienceRotationDeg = -1.0 },
    ];

    /// <summary>Renders the set into <paramref name="directory"/>, runs <c>rapid diff</c> as users run it (the reference co-added from the frames) and scores the products.</summary>
    public static async Task<ScienceQuality> MeasureAsync(ImageSetSpec spec, string directory, CancellationToken ct = default)
    {
        var set = await IndependentRenderer.RenderAsync(spec, Path.Combine(directory, "set"), ct);
        var outDir = Path.Combine(directory, "out");
        if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        await new DiffRunner().RunAsync(new DiffRequest { Science = set.Science, ReferenceInputs = set.References, OutDirectory = outDir }, ct);
        return ImageSetScorer.Score(set, outDir);
    }
}
