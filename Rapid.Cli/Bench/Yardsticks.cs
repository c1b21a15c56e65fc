using System.Globalization;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Wcs;

namespace Rapid.Cli.Bench;

/// <summary>What a yardstick run did, so the report can set it beside the Rapid case doing the same work.</summary>
public enum YardstickTask
{
    /// <summary>SWarp resampling the existing reference (with its uncertainty as weight) onto the science image's grid: case (a)'s resampling.</summary>
    ResampleReference,
    /// <summary>SWarp co-adding the reference inputs onto the science image's grid: case (b)'s co-add.</summary>
    CoaddReference,
    /// <summary>SExtractor's background, detection and photometry on the science image: both cases' image analysis.</summary>
    ExtractScience,
}

/// <summary>
/// The established tools doing the science job's work on the benchmark's inputs, timed in the same run: SWarp (Bertin
/// et al. 2002) resampling the existing reference onto the science image's grid and co-adding the reference inputs onto
/// it (Lanczos-3, weighted), and SExtractor (Bertin &amp; Arnouts 1996) detecting and measuring on the science image
/// (mesh background included). SWarp + SExtractor is the yardstick of a whole science job: (a) against SWarp's resampling
/// + SExtractor, (b) against SWarp's co-add + SExtractor. The output grid is the science image's own (its TAN
/// projection, size and CRPIX, written as SWarp's .head file), so SWarp makes an image of the size Rapid makes. Debian's
/// swarp and source-extractor packages are installed on demand (as root); when that is not possible the tool is skipped
/// with the reason.
/// </summary>
public sealed class Yardsticks(Action<string> progress)
{
    private static readonly string[] Packages = ["swarp", "source-extractor"];

    /// <param name="existingReference">The reference image of case (a) and its 1-sigma uncertainty map.</param>
    public async Task<IReadOnlyList<YardstickRun>> RunAsync(string science, IReadOnlyList<string> references,
        (string Image, string Uncertainty) existingReference, string workDirectory, CancellationToken ct)
    {
        Directory.CreateDirectory(workDirectory);
        var missing = await EnsureInstalledAsync(ct);
        var threads = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture);
        var runs = new List<YardstickRun>();
        if (SwarpProgram() is { } swarp)
        {
            var grid = ScienceGridHeader(science);
            progress("SWarp: resampling the existing reference onto the science grid");
            await File.WriteAllTextAsync(Path.Combine(workDirectory, "resampled.head"), grid, ct);
            var resample = await ChildProcess.RunAsync(swarp,
            [
                existingReference.Image, "-IMAGEOUT_NAME", "resampled.fits", "-WEIGHTOUT_NAME", "resampled.weight.fits",
                "-WEIGHT_TYPE", "MAP_RMS", "-WEIGHT_IMAGE", existingReference.Uncertainty, "-RESAMPLING_TYPE", "LANCZOS3",
                "-SUBTRACT_BACK", "N", "-WRITE_XML", "N", "-VERBOSE_TYPE", "QUIET", "-NTHREADS", threads,
            ], workDirectory, ct: ct);
            runs.Add(Ran("SWarp", YardstickTask.ResampleReference, "resample the existing reference onto the science grid (Lanczos-3)", resample));

            progress($"SWarp: co-adding {references.Count} images onto the science grid");
            await File.WriteAllTextAsync(Path.Combine(workDirectory, "coadd.head"), grid, ct);
            var coadd = await ChildProcess.RunAsync(swarp,
            [
                .. references, "-IMAGEOUT_NAME", "coadd.fits", "-WEIGHTOUT_NAME", "coadd.weight.fits", "-RESAMPLING_TYPE", "LANCZOS3",
                "-COMBINE_TYPE", "WEIGHTED", "-SUBTRACT_BACK", "N", "-WRITE_XML", "N", "-VERBOSE_TYPE", "QUIET", "-NTHREADS", threads,
            ], workDirectory, ct: ct);
            runs.Add(Ran("SWarp", YardstickTask.CoaddReference, $"co-add the {references.Count} reference inputs onto the science grid (Lanczos-3)", coadd));
        }
        else
        {
            runs.Add(new YardstickRun("SWarp", YardstickTask.ResampleReference, "resample the existing reference onto the science grid", null, missing));
            runs.Add(new YardstickRun("SWarp", YardstickTask.CoaddReference, "co-add the reference inputs onto the science grid", null, missing));
        }

        const string sexTask = "background, detection, photometry on the science image";
        if (ChildProcess.Find("source-extractor") is { } sex)
        {
            progress("SExtractor: detecting on the science image");
            var parameters = Path.Combine(workDirectory, "bench.param");
            await File.WriteAllLinesAsync(parameters, ["NUMBER", "X_IMAGE", "Y_IMAGE", "FLUX_AUTO", "FLUXERR_AUTO", "FLAGS"], ct);
            var run = await ChildProcess.RunAsync(sex,
            [
                science, "-CATALOG_NAME", "science.cat", "-CATALOG_TYPE", "FITS_LDAC", "-PARAMETERS_NAME", parameters,
                "-FILTER", "N", "-DETECT_THRESH", "5", "-BACK_SIZE", "64", "-VERBOSE_TYPE", "QUIET", "-NTHREADS", threads,
            ], workDirectory, ct: ct);
            runs.Add(Ran("SExtractor", YardstickTask.ExtractScience, sexTask, run));
        }
        else runs.Add(new YardstickRun("SExtractor", YardstickTask.ExtractScience, sexTask, null, missing));
        return runs;
    }

    private static YardstickRun Ran(string tool, YardstickTask task, string description, ChildRun run) =>
        new(tool, task, description, run, run.ExitCode == 0 ? null : $"exit {run.ExitCode}: {run.ErrorTail}");

    /// <summary>
    /// SWarp's output header (a .head file beside the output: one card a line) for the science image's grid: its size,
    /// CRPIX, CRVAL and CD matrix as a plain TAN projection (SWarp's own distortion model is TPV, not SIP; the grid's
    /// size and sampling, what the time depends on, are the same).
    /// </summary>
    internal static string ScienceGridHeader(string science)
    {
        var info = FitsFile.ReadImageInfo(science);
        var wcs = TanSipWcs.FromHeader(info.Header, science);
        var (cd11, cd12, cd21, cd22) = wcs.Cd;
        static string N(double v) => v.ToString("R", CultureInfo.InvariantCulture).ToUpperInvariant();
        string[] cards =
        [
            "NAXIS   = 2", $"NAXIS1  = {info.Width}", $"NAXIS2  = {info.Height}", "CTYPE1  = 'RA---TAN'", "CTYPE2  = 'DEC--TAN'",
            $"CRPIX1  = {N(wcs.Crpix1)}", $"CRPIX2  = {N(wcs.Crpix2)}", $"CRVAL1  = {N(wcs.CrvalRaDeg)}", $"CRVAL2  = {N(wcs.CrvalDecDeg)}",
            $"CD1_1   = {N(cd11)}", $"CD1_2   = {N(cd12)}", $"CD2_1   = {N(cd21)}", $"CD2_2   = {N(cd22)}", "END",
        ];
        return string.Concat(cards.Select(c => c.PadRight(80) + "\n"));
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
