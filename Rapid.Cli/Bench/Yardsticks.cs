namespace Rapid.Cli.Bench;

/// <summary>
/// The established tools on the benchmark's inputs, for scale: SWarp (Bertin et al. 2002) co-adding the reference
/// inputs with Lanczos-3 resampling and weighted combination, and SExtractor (Bertin &amp; Arnouts 1996) detecting on the
/// science image (mesh background included). Debian's swarp and source-extractor packages are installed on demand
/// (as root); when that is not possible the tool is skipped with the reason.
/// </summary>
public sealed class Yardsticks(Action<string> progress)
{
    private static readonly string[] Packages = ["swarp", "source-extractor"];

    public async Task<IReadOnlyList<YardstickRun>> RunAsync(string science, IReadOnlyList<string> references, string workDirectory, CancellationToken ct)
    {
        Directory.CreateDirectory(workDirectory);
        var missing = await EnsureInstalledAsync(ct);
        var runs = new List<YardstickRun>();
        const string swarpTask = "co-add the reference inputs (Lanczos-3)";
        if (SwarpProgram() is { } swarp)
        {
            progress($"SWarp: co-adding {references.Count} images");
            var run = await ChildProcess.RunAsync(swarp,
            [
                .. references, "-IMAGEOUT_NAME", "coadd.fits", "-WEIGHTOUT_NAME", "coadd.weight.fits", "-RESAMPLING_TYPE", "LANCZOS3",
                "-COMBINE_TYPE", "WEIGHTED", "-SUBTRACT_BACK", "N", "-WRITE_XML", "N", "-VERBOSE_TYPE", "QUIET",
                "-NTHREADS", Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ], workDirectory, ct: ct);
            runs.Add(new YardstickRun("SWarp", swarpTask, run, run.ExitCode == 0 ? null : $"exit {run.ExitCode}: {run.ErrorTail}"));
        }
        else runs.Add(new YardstickRun("SWarp", swarpTask, null, missing));

        const string sexTask = "background, detection, photometry on the science image";
        if (ChildProcess.Find("source-extractor") is { } sex)
        {
            progress("SExtractor: detecting on the science image");
            var parameters = Path.Combine(workDirectory, "bench.param");
            File.WriteAllLines(parameters, ["NUMBER", "X_IMAGE", "Y_IMAGE", "FLUX_AUTO", "FLUXERR_AUTO", "FLAGS"]);
            var run = await ChildProcess.RunAsync(sex,
            [
                science, "-CATALOG_NAME", "science.cat", "-CATALOG_TYPE", "FITS_LDAC", "-PARAMETERS_NAME", parameters,
                "-FILTER", "N", "-DETECT_THRESH", "5", "-BACK_SIZE", "64", "-VERBOSE_TYPE", "QUIET",
            ], workDirectory, ct: ct);
            runs.Add(new YardstickRun("SExtractor", sexTask, run, run.ExitCode == 0 ? null : $"exit {run.ExitCode}: {run.ErrorTail}"));
        }
        else runs.Add(new YardstickRun("SExtractor", sexTask, null, missing));
        return runs;
    }

    // Debian installs SWarp as /usr/bin/SWarp; upstream builds name it swarp.
    private static string? SwarpProgram() => ChildProcess.Find("SWarp") ?? ChildProcess.Find("swarp");

    /// <summary>Installs what is missing when that is possible; returns why a missing tool stays missing.</summary>
    private async Task<string> EnsureInstalledAsync(CancellationToken ct)
    {
        if (SwarpProgram() is not null && ChildProcess.Find("source-extractor") is not null) return "";
        var apt = ChildProcess.Find("apt-get");
        if (apt is null || Environment.UserName != "root")
            return $"not installed (apt-get install {string.Join(" ", Packages)})";
        progress($"installing the yardstick tools: apt-get install {string.Join(" ", Packages)}");
        var run = await ChildProcess.RunAsync(apt, ["install", "-y", "-qq", "--no-install-recommends", .. Packages],
            environment: new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" }, ct: ct);
        return run.ExitCode == 0 ? "" : $"not installed: apt-get install {string.Join(" ", Packages)} failed (exit {run.ExitCode}: {run.ErrorTail})";
    }
}
