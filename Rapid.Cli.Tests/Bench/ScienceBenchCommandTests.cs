using System.Text.RegularExpressions;
using Rapid.Cli.Diff;
using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Bench;

/// <summary><c>rapid bench science</c> on tiny images: it runs both cases, prints every step and the quality table (no timing or quality asserts).</summary>
[Collection(ConsoleCaptureCollection.Name)]
public sealed class ScienceBenchCommandTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"rapid-bench-{Guid.NewGuid():N}"[..23]);

    public void Dispose()
    {
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Prints_each_step_and_the_quality_of_both_cases_with_peak_memory_and_reuses_its_inputs()
    {
        string[] tiny = ["bench", "science", "--size", "128", "--frames", "3", "--transients", "20", "--home", _home];
        var (code, output, error) = await ConsoleCapture.InvokeAsync(tiny);
        var again = await ConsoleCapture.InvokeAsync([.. tiny, "--no-yardsticks"]);

        Assert.True(code == 0, error);
        var cache = Path.Combine(_home, "bench", "science", "size128_frames3_seed1_transients20_peak20.5-25.0mag");
        var coadded = DiffJsonContext.Read(Path.Combine(cache, "out-coadded-reference-science", "manifest.json"));
        var existing = DiffJsonContext.Read(Path.Combine(cache, "out-existing-reference-science", "manifest.json"));
        Assert.Equal(3, coadded.ReferenceImage!.NFrames);
        Assert.Null(existing.ReferenceImage);
        foreach (var step in coadded.StepSeconds.Keys.Concat(existing.StepSeconds.Keys))
            Assert.Contains(step, output);
        Assert.Contains("(a) existing reference", output);
        Assert.Contains("(b) reference co-added from 3", output);
        Assert.Contains("peak memory (GB)", output);
        Assert.Contains("SWarp", output);
        Assert.Contains("SExtractor", output);
        // The yardstick does the job's work on the job's grid: SWarp's resampled reference and co-add are the science image's size.
        foreach (var swarped in new[] { "resampled.fits", "coadd.fits" })
        {
            var info = Rapid.Pipeline.Fits.FitsFile.ReadImageInfo(Path.Combine(cache, "yardsticks", swarped));
            Assert.Equal((128, 128), (info.Width, info.Height));
        }
        var ratios = output.Split('\n').Where(l => l.Contains("SWarp resample + SExtractor", StringComparison.Ordinal) || l.Contains("SWarp co-add + SExtractor", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, ratios.Count);
        Assert.All(ratios, row => Assert.Matches(@"│\s+\d+\.\d\dx\s+│", row));
        Assert.Contains("<= 1.25 x", ratios[0]);
        Assert.Contains("Quality against the simulator's truth", output);
        foreach (var figure in new[] { "completeness, true S/N >= 10", "median |FLUX/true - 1|", "pull rms", "false detections per 10^6", "S_corr mean", "S_corr rms" })
            Assert.Contains(figure, output);
        Assert.Contains("(a) existing reference: ", output);
        Assert.Contains("true changing sources", output);
        // S_corr statistics exist at any size; the other figures may have no sources at 128x128 ("n/a"), never NaN.
        var scoreRows = output.Split('\n').Where(l => l.StartsWith("│ S_corr", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, scoreRows.Count);
        foreach (var row in scoreRows)
            Assert.Equal(2, Regex.Matches(row, @"│\s+-?\d+\.\d{4}\b").Count);
        Assert.DoesNotContain("NaN", output);
        Assert.Equal(0, again.Code);
        Assert.Contains("cached", again.Output);
        Assert.DoesNotContain("SWarp", again.Output);
    }
}
