using Rapid.Cli.Diff;
using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Bench;

/// <summary><c>rapid bench science</c> on tiny images: it runs both cases and prints every step (no timing asserts).</summary>
[Collection(ConsoleCaptureCollection.Name)]
public sealed class ScienceBenchCommandTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"rapid-bench-{Guid.NewGuid():N}"[..23]);

    public void Dispose()
    {
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Prints_each_step_of_both_cases_with_peak_memory_and_reuses_its_inputs()
    {
        var (code, output, error) = await ConsoleCapture.InvokeAsync("bench", "science", "--size", "128", "--frames", "3", "--home", _home);
        var again = await ConsoleCapture.InvokeAsync("bench", "science", "--size", "128", "--frames", "3", "--home", _home, "--no-yardsticks");

        Assert.True(code == 0, error);
        var cache = Path.Combine(_home, "bench", "science", "size128_frames3_seed1");
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
        Assert.Equal(0, again.Code);
        Assert.Contains("cached", again.Output);
        Assert.DoesNotContain("SWarp", again.Output);
    }
}
