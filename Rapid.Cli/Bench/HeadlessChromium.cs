using System.Diagnostics;

namespace Rapid.Cli.Bench;

/// <summary>
/// Debian's Chromium run headless on a local page, as the bench and the README's screenshot use it: a fresh profile each
/// time, and no background networking (this machine's network is closed; Chromium would try its own services).
/// </summary>
public static class HeadlessChromium
{
    public const string Executable = "/usr/bin/chromium";

    /// <summary>The flags every headless start uses (the user-data directory is added per start).</summary>
    public static readonly IReadOnlyList<string> Flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--mute-audio",
    ];

    /// <summary>The page's DOM once loaded and its scripts idle, and how long Chromium took from start to exit.</summary>
    public static async Task<(string Dom, TimeSpan Elapsed)> DumpDomAsync(string file, CancellationToken ct = default)
    {
        var (output, elapsed) = await RunAsync(["--virtual-time-budget=60000", "--dump-dom", new Uri(Path.GetFullPath(file)).AbsoluteUri], ct);
        return (output, elapsed);
    }

    /// <summary>A PNG of the page at the given window size.</summary>
    public static async Task ScreenshotAsync(string file, string png, int width, int height, CancellationToken ct = default) =>
        await RunAsync([$"--window-size={width},{height}", "--virtual-time-budget=60000", $"--screenshot={Path.GetFullPath(png)}",
            new Uri(Path.GetFullPath(file)).AbsoluteUri], ct);

    private static async Task<(string Output, TimeSpan Elapsed)> RunAsync(IEnumerable<string> arguments, CancellationToken ct)
    {
        var profile = Directory.CreateTempSubdirectory("rapid-chromium-").FullName;
        try
        {
            var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var f in Flags) start.ArgumentList.Add(f);
            start.ArgumentList.Add($"--user-data-dir={profile}");
            foreach (var a in arguments) start.ArgumentList.Add(a);
            var clock = Stopwatch.StartNew();
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Executable} did not start");
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            var elapsed = clock.Elapsed;
            if (process.ExitCode != 0) throw new InvalidOperationException($"{Executable} exited {process.ExitCode}: {(await stderr).Trim()}");
            return (await stdout, elapsed);
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
        }
    }
}
