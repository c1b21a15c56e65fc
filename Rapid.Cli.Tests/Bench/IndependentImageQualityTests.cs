using Rapid.Cli.Bench.ImageSets;
using Rapid.Cli.Diff;
using Xunit.Abstractions;

namespace Rapid.Cli.Tests.Bench;

/// <summary>
/// Issue 11's quality targets on images no one here rendered: one 512 x 512 science image and four reference frames per
/// renderer (fitsh's firandom, GNU Astronomy Utilities' astmkprof, photutils), each with a focal-plane TAN-SIP WCS
/// (~100 px of distortion, CRPIX far off the chip), references dithered by tens of pixels and rolled by up to 2 degrees,
/// three saturated stars, variable stars and 150 transients of known flux. <c>rapid diff</c> runs as users run it (the
/// reference co-added from the four frames) and <see cref="ImageSetScorer"/> scores the products against the truth.
/// </summary>
public sealed class IndependentImageQualityFixture : IAsyncLifetime
{
    /// <summary>The sets: an undersampled Gaussian, an elliptical one in a SCI extension, a broad Moffat with a survey's header.</summary>
    public static readonly ImageSetSpec[] Specs =
    [
        new() { Renderer = ImageSetRenderers.Photutils, Seed = 31, ScienceFwhm = 1.2, ReferenceFwhm = 1.5 },
        new() { Renderer = ImageSetRenderers.Fitsh, Seed = 32, ScienceFwhm = 2.0, ReferenceFwhm = 1.6, SipOrder = 5, DitherPx = 40, HeaderStyle = "extension" },
        new() { Renderer = ImageSetRenderers.Gnuastro, Seed = 33, ScienceFwhm = 2.8, ReferenceFwhm = 2.2, ScienceRotationDeg = -1.0 },
    ];

    private readonly string _root = Directory.CreateTempSubdirectory("rapid-independent-").FullName;

    public Dictionary<string, ScienceQuality> Quality { get; } = [];
    public Dictionary<string, string> Failures { get; } = [];

    public async Task InitializeAsync()
    {
        foreach (var spec in Specs)
        {
            try
            {
                var set = await IndependentRenderer.RenderAsync(spec, Path.Combine(_root, spec.Renderer));
                var outDir = Path.Combine(_root, spec.Renderer + "-out");
                await new DiffRunner().RunAsync(new DiffRequest { Science = set.Science, ReferenceInputs = set.References, OutDirectory = outDir });
                Quality[spec.Renderer] = ImageSetScorer.Score(set, outDir);
            }
            catch (Exception e) when (e is InvalidOperationException or Rapid.Cli.Commands.PipelineExitException)
            {
                Failures[spec.Renderer] = e.Message;
            }
        }
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

/// <summary>
/// One test per target and renderer. Targets the science does not meet yet are skipped with the figure measured when
/// the harness landed (the test output prints the current figures of every target); science-zogy and science-psf
/// remove a skip when their change makes it pass. The targets themselves are never loosened.
/// </summary>
public sealed class IndependentImageQualityTests(IndependentImageQualityFixture fixture, ITestOutputHelper output) : IClassFixture<IndependentImageQualityFixture>
{
    private const string NotYet = "issue 11 target not met yet; measured when the harness landed: ";

    private ScienceQuality Of(string renderer)
    {
        Assert.False(fixture.Failures.TryGetValue(renderer, out var failure), $"{renderer}: {failure}");
        var q = fixture.Quality[renderer];
        foreach (var t in q.Targets) output.WriteLine($"{renderer}: {t.Measure} = {t.Measured:G4} (target {t.Target}; {(t.Met ? "met" : "MISSED")}) {t.Detail}");
        foreach (var s in q.FalseSites) output.WriteLine($"{renderer}: false detections {s.What}: {s.Count}");
        return q;
    }

    private void AssertTarget(string renderer, string measureStart)
    {
        var t = Of(renderer).Targets.Single(t => t.Measure.StartsWith(measureStart, StringComparison.Ordinal));
        Assert.True(t.Met, $"{renderer}: {t.Measure} = {t.Measured:G4}, target {t.Target} ({t.Detail})");
    }

    [Theory]
    [InlineData(ImageSetRenderers.Photutils, Skip = NotYet + "67 % (90 of 135)")]
    [InlineData(ImageSetRenderers.Fitsh, Skip = NotYet + "44 % (55 of 125)")]
    [InlineData(ImageSetRenderers.Gnuastro)]
    public void Completeness_is_at_least_95_percent_at_true_snr_7(string renderer) => AssertTarget(renderer, "completeness");

    [Theory]
    [InlineData(ImageSetRenderers.Photutils, Skip = NotYet + "-1.86 mag")]
    [InlineData(ImageSetRenderers.Fitsh, Skip = NotYet + "-2.74 mag")]
    [InlineData(ImageSetRenderers.Gnuastro, Skip = NotYet + "-0.24 mag")]
    public void The_50_percent_completeness_magnitude_is_within_0_2_mag_of_the_5_sigma_limit(string renderer) => AssertTarget(renderer, "50 %");

    [Theory]
    [InlineData(ImageSetRenderers.Photutils, Skip = NotYet + "4.9 %")]
    [InlineData(ImageSetRenderers.Fitsh, Skip = NotYet + "2.3 %")]
    [InlineData(ImageSetRenderers.Gnuastro)]
    public void Fluxes_are_within_2_percent_median(string renderer) => AssertTarget(renderer, "median |FLUX");

    [Theory]
    [InlineData(ImageSetRenderers.Photutils, Skip = NotYet + "0.58")]
    [InlineData(ImageSetRenderers.Fitsh, Skip = NotYet + "1.11")]
    [InlineData(ImageSetRenderers.Gnuastro, Skip = NotYet + "1.38")]
    public void Flux_errors_match_the_scatter(string renderer) => AssertTarget(renderer, "pull rms");

    [Theory]
    [InlineData(ImageSetRenderers.Photutils, Skip = NotYet + "7.7 (2 rows by saturated stars)")]
    [InlineData(ImageSetRenderers.Fitsh, Skip = NotYet + "3.8 (1 row by a saturated star)")]
    [InlineData(ImageSetRenderers.Gnuastro, Skip = NotYet + "88 (23 rows by saturated stars)")]
    public void At_most_one_false_detection_per_million_pixels_counting_every_row(string renderer) => AssertTarget(renderer, "false detections per");

    [Theory]
    [InlineData(ImageSetRenderers.Photutils)]
    [InlineData(ImageSetRenderers.Fitsh)]
    [InlineData(ImageSetRenderers.Gnuastro)]
    public void No_false_detection_along_coverage_edges(string renderer) => AssertTarget(renderer, "false detections along");

    [Theory]
    [InlineData(ImageSetRenderers.Photutils)]
    [InlineData(ImageSetRenderers.Fitsh, Skip = NotYet + "0.20 px")]
    [InlineData(ImageSetRenderers.Gnuastro)]
    public void Catalog_positions_are_within_a_tenth_of_a_pixel_of_the_truth(string renderer) => AssertTarget(renderer, "median RA/Dec");
}
