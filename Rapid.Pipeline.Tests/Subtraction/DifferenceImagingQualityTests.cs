using Rapid.Pipeline.Subtraction;
using Rapid.Pipeline.Tests.Support;
using Xunit.Abstractions;

namespace Rapid.Pipeline.Tests.Subtraction;

/// <summary>
/// Runs <see cref="DifferenceImaging"/> once on each of four simulated 512x512 pairs (Roman-like undersampled and
/// well-sampled PSFs, science sharper or broader than the reference, different skies, flux scales and sub-pixel WCS
/// offsets with a small rotation; hot pixels and cosmic rays in two of them), with 40 stars (about 150 per 10^6 px, a few times the Roman high-latitude density) and 60 transients only in the science image, and on one constant star field.
/// </summary>
public sealed class DifferenceImagingQualityFixture
{
    public static readonly DifferencePairSpec[] Cases =
    [
        new() { Seed = 11, ScienceFwhm = 1.3, ReferenceFwhm = 1.5, ScienceSkyRate = 1.0, ReferenceSkyRate = 0.6, OffsetX = 0.37, OffsetY = -0.21, RotationDeg = 0.02, HotPixels = 25, CosmicRays = 10 },
        new() { Seed = 12, ScienceFwhm = 2.2, ReferenceFwhm = 1.6, ScienceSkyRate = 2.0, ReferenceSkyRate = 0.8, OffsetX = -0.61, OffsetY = 0.45, RotationDeg = -0.03 },
        new() { Seed = 13, ScienceFwhm = 1.5, ReferenceFwhm = 1.5, ScienceSkyRate = 0.5, ReferenceSkyRate = 1.5, OffsetX = 0.12, OffsetY = 0.83, RotationDeg = 0.0, ScienceFluxScale = 0.8 },
        new() { Seed = 14, ScienceFwhm = 1.2, ReferenceFwhm = 2.0, ScienceSkyRate = 1.2, ReferenceSkyRate = 1.0, OffsetX = -0.25, OffsetY = -0.48, RotationDeg = 0.01, ReferenceDepth = 4, HotPixels = 25, CosmicRays = 10 },
    ];

    public DifferenceImagingQualityFixture()
    {
        Runs = Cases.Select(spec =>
        {
            // Transient S/N log-uniform in 5..200: the flux-bias criterion at S/N >= 20 is then not dominated by the noise of S/N 20 sources (5 %).
            var pair = new DifferencePair(spec with { Size = 512, Stars = 40, Transients = 60, TransientSnr = (5, 200) });
            return (pair, DifferenceImaging.Run(pair.Input, new DifferenceImagingOptions(), new SilentLog()));
        }).ToList();
        var constant = new DifferencePair(new DifferencePairSpec { Seed = 21, Size = 512, Stars = 100, ScienceFwhm = 1.4, ReferenceFwhm = 1.6 });
        Constant = (constant, DifferenceImaging.Run(constant.Input, new DifferenceImagingOptions(), new SilentLog()));
    }

    public IReadOnlyList<(DifferencePair Pair, DifferenceImagingResult Result)> Runs { get; }
    public (DifferencePair Pair, DifferenceImagingResult Result) Constant { get; }

    /// <summary>Each injected transient with the closest positive detection within 1 px (null when none).</summary>
    public IEnumerable<(InjectedTransient Truth, DifferenceSource? Found)> Matches() =>
        Runs.SelectMany(run => run.Pair.Transients.Select(t => (t, run.Result.Sources
            .Where(s => s.Sign > 0 && Distance(s, t.X, t.Y) <= 1.0)
            .OrderBy(s => Distance(s, t.X, t.Y)).FirstOrDefault())));

    /// <summary>Detections farther than 3 px from every transient and not flagged near a saturated star (hot pixels and cosmic rays count as false).</summary>
    public IEnumerable<DifferenceSource> FalseDetections() =>
        Runs.SelectMany(run => run.Result.Sources.Where(s =>
            (s.Flags & DifferenceSourceFlags.NearSaturated) == 0 && run.Pair.Transients.All(t => Distance(s, t.X, t.Y) > 3)));

    public double Megapixels => Runs.Sum(r => r.Pair.Spec.Size * (double)r.Pair.Spec.Size) / 1e6;

    public static double Distance(DifferenceSource s, double x, double y) => Math.Sqrt((s.X - x) * (s.X - x) + (s.Y - y) * (s.Y - y));
}

public class DifferenceImagingQualityTests(DifferenceImagingQualityFixture fixture, ITestOutputHelper output) : IClassFixture<DifferenceImagingQualityFixture>
{
    [Fact]
    public void Finds_at_least_95_percent_of_the_transients_with_snr_10_or_more_within_1_px()
    {
        var bright = fixture.Matches().Where(m => m.Truth.Snr >= 10).ToList();
        var found = bright.Count(m => m.Found is not null);
        var completeness = found / (double)bright.Count;
        output.WriteLine($"completeness {completeness:P1} ({found} of {bright.Count} with S/N >= 10)");
        Assert.True(bright.Count >= 80, $"only {bright.Count} transients with S/N >= 10 were injected");
        Assert.True(completeness >= 0.95, $"completeness {completeness:P1}; missed: {string.Join("; ", bright.Where(m => m.Found is null).Select(m => $"({m.Truth.X:F1}, {m.Truth.Y:F1}) S/N {m.Truth.Snr:F1}"))}");
    }

    [Fact]
    public void Measures_fluxes_of_snr_20_transients_within_3_percent_median()
    {
        var ratios = fixture.Matches().Where(m => m.Truth.Snr >= 20 && m.Found is not null).Select(m => Math.Abs(m.Found!.Flux / m.Truth.Rate - 1)).Order().ToList();
        var median = ratios[ratios.Count / 2];
        output.WriteLine($"median |FLUX/true - 1| {median:P2} over {ratios.Count} transients with S/N >= 20");
        Assert.True(ratios.Count >= 40, $"only {ratios.Count} transients with S/N >= 20 were found");
        Assert.True(median <= 0.03, $"median |FLUX/true - 1| = {median:P2}");
    }

    [Fact]
    public void States_flux_errors_consistent_with_the_scatter()
    {
        var pulls = fixture.Matches().Where(m => m.Found is not null && m.Truth.Snr >= 10).Select(m => (m.Found!.Flux - m.Truth.Rate) / m.Found.FluxError).ToList();
        var rms = Math.Sqrt(pulls.Average(p => p * p));
        output.WriteLine($"pull rms {rms:F3} over {pulls.Count} transients (mean {pulls.Average():F3})");
        Assert.InRange(rms, 0.8, 1.25);
    }

    [Fact]
    public void Makes_at_most_one_false_detection_per_million_pixels_away_from_saturated_stars()
    {
        var spurious = fixture.FalseDetections().ToList();
        var perMegapixel = spurious.Count / fixture.Megapixels;
        output.WriteLine($"{spurious.Count} false detections in {fixture.Megapixels:F2} Mpx ({perMegapixel:F2} per 10^6 px)");
        Assert.True(perMegapixel <= 1.0, string.Join("; ", spurious.Select(s => $"({s.X:F1}, {s.Y:F1}) S/N {s.Snr:F1} sign {s.Sign}")));
    }

    [Fact]
    public void Gives_a_normalised_score_on_a_constant_star_field()
    {
        var scorr = fixture.Constant.Result.ScoreCorrected.Where(float.IsFinite).Select(v => (double)v).ToArray();
        var mean = scorr.Average();
        var rms = Math.Sqrt(scorr.Average(v => (v - mean) * (v - mean)));
        output.WriteLine($"constant field: S_corr mean {mean:F4}, rms {rms:F4}, {fixture.Constant.Result.Sources.Count} detections");
        Assert.InRange(mean, -0.05, 0.05);
        Assert.InRange(rms, 0.9, 1.1);
    }
}
