using System.Diagnostics;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Report;
using Rapid.Functions.Report.Data;
using Rapid.Functions.Report.Html;

namespace Rapid.Cli.Bench;

/// <summary>What <c>rapid bench report</c> measured.</summary>
/// <param name="Load">Reading the night from the ops database (and the failed jobs' logs from the store).</param>
/// <param name="Render">Plots and HTML.</param>
/// <param name="Browser">Headless Chromium from start until the page's tables are drawn, minus its start on an empty page; null when Chromium is not installed.</param>
public sealed record ReportBenchmarkReport(int Images, int Jobs, string Database, TimeSpan Setup, TimeSpan Load, TimeSpan Render, long Bytes,
    string Path, TimeSpan? Browser, NightVerdict Verdict);

/// <summary>
/// Times the night report of a synthetic night (<see cref="SyntheticNight"/>) of N images in a scratch database: reading,
/// rendering, the page's size, and how long headless Chromium takes to draw it.
/// </summary>
public static class ReportBenchmark
{
    private static readonly ProcessingDate ProcDate = ProcessingDate.Parse("20991230");

    public static async Task<ReportBenchmarkReport> RunAsync(string connectionString, IObjectStore store, string storeRoot, int images, string outPath,
        Action<string>? progress = null, bool keepDatabase = false, CancellationToken ct = default)
    {
        if (images < 1) throw new ArgumentOutOfRangeException(nameof(images), images, $"--images {images}: must be at least 1");
        progress ??= _ => { };
        var keys = new ObjectKeys(Buckets.Default);
        await using var scratch = await ScratchDatabase.CreateAsync(connectionString, "report", ct);
        scratch.Keep = keepDatabase;
        try
        {
            var clock = Stopwatch.StartNew();
            var jobs = await SyntheticNight.CreateAsync(scratch.DataSource, store, keys, ProcDate, new SyntheticNightSpec(Images: images), ct);
            var setup = clock.Elapsed;
            progress($"setup: a synthetic night of {images} images ({jobs} jobs) in {setup.TotalSeconds:F1} s");

            var options = new NightReportOptions { JobVcpus = new Dictionary<int, int> { [12] = 4, [15] = 4, [17] = 1, [18] = 1 } };
            clock.Restart();
            var model = await new NightReportData(scratch.DataSource, store, keys, options).LoadAsync(ProcDate, ct);
            var load = clock.Elapsed;
            clock.Restart();
            var html = NightReportPage.Render(model, ReportLinks.FromFile(outPath, storeRoot), keys, options);
            var render = clock.Elapsed;
            await File.WriteAllTextAsync(outPath, html, ct);
            progress($"report: read in {load.TotalSeconds:F2} s, rendered in {render.TotalSeconds:F2} s, {new FileInfo(outPath).Length / 1e6:F2} MB");
            var browser = await BrowserSecondsAsync(outPath, ct);
            return new ReportBenchmarkReport(images, jobs, keepDatabase ? scratch.Name : $"{scratch.Name} (dropped)", setup, load, render,
                new FileInfo(outPath).Length, Path.GetFullPath(outPath), browser, model.Verdict);
        }
        finally
        {
            if (!keepDatabase)
                await foreach (var log in store.ListAsync(keys.Buckets.Logs, $"{ProcDate}/", CancellationToken.None))
                    await store.DeleteAsync(log, CancellationToken.None);
        }
    }

    /// <summary>Chromium's time to draw the page's tables (its DOM dumped once they are), minus its time for an empty page.</summary>
    private static async Task<TimeSpan?> BrowserSecondsAsync(string page, CancellationToken ct)
    {
        if (!File.Exists(HeadlessChromium.Executable)) return null;
        var empty = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(page))!, ".empty.html");
        await File.WriteAllTextAsync(empty, "<!DOCTYPE html><title>empty</title>", ct);
        try
        {
            var baseline = await HeadlessChromium.DumpDomAsync(empty, ct);
            var loaded = await HeadlessChromium.DumpDomAsync(page, ct);
            if (!loaded.Dom.Contains("data-ready=\"true\"", StringComparison.Ordinal))
                throw new InvalidOperationException($"bench: Chromium did not finish drawing {page}'s tables");
            return loaded.Elapsed - baseline.Elapsed;
        }
        finally
        {
            File.Delete(empty);
        }
    }
}
