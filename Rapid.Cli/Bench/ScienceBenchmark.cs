using System.Text.Json;
using Rapid.Cli.Diff;
using Rapid.Cli.Ingest;
using Rapid.Pipeline.Simulation;

namespace Rapid.Cli.Bench;

/// <summary>What <c>rapid bench science</c> is to run.</summary>
/// <param name="Size">Image size (square); Roman SCAs are 4088.</param>
/// <param name="Frames">Images co-added into the reference of case (b).</param>
/// <param name="CacheDirectory">Where the simulated inputs are kept between runs (under the rapid home).</param>
public sealed record ScienceBenchmarkOptions(int Size, int Frames, int Seed, string CacheDirectory, bool Yardsticks)
{
    /// <summary>Transients simulated in the field (the simulator's TransientsPerField): many, so the quality figures are not thin.</summary>
    public int Transients { get; init; } = DefaultTransients;

    public const int DefaultTransients = 300;

    /// <summary>
    /// AB peak magnitudes of the transients (H158), fainter than the simulator's default (20.5-23) so the science epoch
    /// holds sources from S/N ~5 to ~200 at full size, around the completeness threshold of S/N 10 as well as well above it.
    /// </summary>
    public static readonly (double Bright, double Faint) TransientPeakMagnitudes = (20.5, 25.0);

    /// <summary>The cached inputs' folder name: everything the simulated images depend on beyond the simulator's defaults.</summary>
    public static string CacheKey(int size, int frames, int seed, int transients) =>
        FormattableString.Invariant($"size{size}_frames{frames}_seed{seed}_transients{transients}_peak{TransientPeakMagnitudes.Bright:0.0}-{TransientPeakMagnitudes.Faint:0.0}mag");

    /// <summary>Co-add (b) onto the sky tile grid of this size (as nightly jobs do) instead of the science grid.</summary>
    public int? TileGridPixels { get; init; }
}

/// <summary>One timed <c>rapid diff</c> run: the manifest it left (steps, peak memory), the child process's own figures and its quality against the truth.</summary>
public sealed record BenchedDiff(string Title, DiffManifest Manifest, ChildRun Process, DifferenceQualityFigures Quality);

/// <summary>A reference tool run on the same inputs (Description says what it did); Skipped says why it was not run.</summary>
public sealed record YardstickRun(string Tool, YardstickTask Task, string Description, ChildRun? Process, string? Skipped);

public sealed record ScienceBenchmarkReport(ScienceBenchmarkOptions Options, TimeSpan Simulation, bool SimulationCached,
    BenchedDiff ExistingReference, BenchedDiff CoaddedReference, IReadOnlyList<YardstickRun> Yardsticks);

/// <summary>
/// Times the science job at full size as users run it: <c>rapid diff</c> in a child process of its own (so its peak
/// memory is its own), (b) against a reference co-added from <see cref="ScienceBenchmarkOptions.Frames"/> simulated
/// images, then (a) against the reference (b) made, given as an existing reference image with its maps. The job log's
/// per-step wall times come from each run's manifest. SWarp (resampling that reference onto the science grid, co-adding
/// the same inputs onto it) and SExtractor (on the science image) are timed in the same run as the yardstick
/// (<see cref="Yardsticks"/>) when installed. Each difference is scored against the simulator's truth
/// (<see cref="DifferenceQualityScoring"/>).
/// </summary>
public sealed class ScienceBenchmark(Action<string> progress)
{
    public async Task<ScienceBenchmarkReport> RunAsync(ScienceBenchmarkOptions options, CancellationToken ct = default)
    {
        if (options.Size < 64) throw new ArgumentException($"bench: --size {options.Size}: must be at least 64 pixels");
        if (options.Frames < 3) throw new ArgumentException($"bench: --frames {options.Frames}: must be at least 3 (the reference minimum)");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (science, references, cached) = EnsureInputs(options);
        var simulation = clock.Elapsed;

        var grid = options.TileGridPixels is int t ? $"tile{t}" : "science";
        var coaddOut = Path.Combine(options.CacheDirectory, $"out-coadded-reference-{grid}");
        var existingOut = Path.Combine(options.CacheDirectory, $"out-existing-reference-{grid}");
        progress($"(b) rapid diff against a reference co-added from {references.Count} images of {options.Size}x{options.Size} on the {grid} grid");
        string[] tileGrid = options.TileGridPixels is int n ? ["--tile-grid", n.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [];
        var coadded = await RunDiffAsync($"(b) reference co-added from {references.Count}", coaddOut, science, references,
            ["--science", science, "--reference", .. references, .. tileGrid], ct);
        progress("(a) rapid diff against the existing reference (b) made");
        var existing = await RunDiffAsync("(a) existing reference", existingOut, science, references,
            ["--science", science, "--reference-image", Path.Combine(coaddOut, "refimage.fits"),
             "--reference-coverage", Path.Combine(coaddOut, "refimage_cov.fits"), "--reference-uncertainty", Path.Combine(coaddOut, "refimage_uncert.fits")], ct);

        var yardsticks = options.Yardsticks
            ? await new Yardsticks(progress).RunAsync(science, references,
                (Path.Combine(coaddOut, "refimage.fits"), Path.Combine(coaddOut, "refimage_uncert.fits")), Path.Combine(options.CacheDirectory, "yardsticks"), ct)
            : [];
        return new ScienceBenchmarkReport(options, simulation, cached, existing, coadded, yardsticks);
    }

    // The inputs are simulated once per cache folder (its key: size, frames, seed, transients and their peak magnitudes):
    // the first `frames` epochs make the reference and the last epoch is the science image. Transients stay dark until
    // after the reference epochs, so the reference is clean.
    private (string Science, IReadOnlyList<string> References, bool Cached) EnsureInputs(ScienceBenchmarkOptions options)
    {
        var marker = Path.Combine(options.CacheDirectory, "inputs.json");
        if (File.Exists(marker))
        {
            var paths = JsonSerializer.Deserialize<string[]>(File.ReadAllText(marker)) ?? [];
            if (paths.Length == options.Frames + 1 && paths.All(File.Exists))
            {
                progress($"using the simulated inputs cached in {options.CacheDirectory}");
                return (paths[^1], paths[..^1], true);
            }
        }
        progress($"simulating {options.Frames + 1} images of {options.Size}x{options.Size} into {options.CacheDirectory} (cached for the next run)");
        var spec = new SurveySpec
        {
            FieldCentres = SimulatedSurveyIngest.TileCentres(1),
            Filters = ["H158"],
            Epochs = options.Frames + 2,
            TransientsPerField = options.Transients,
            TransientPeakMagnitudes = ScienceBenchmarkOptions.TransientPeakMagnitudes,
            TransientQuietEpochs = options.Frames,
            Size = options.Size,
            Seed = options.Seed,
        };
        var survey = SurveySimulator.Generate(spec, Path.Combine(options.CacheDirectory, "survey"));
        var byEpoch = survey.Images.OrderBy(i => i.Epoch).Select(i => i.Path).ToList();
        string[] chosen = [.. byEpoch.Take(options.Frames), byEpoch[^1]];
        File.WriteAllText(marker, JsonSerializer.Serialize(chosen));
        return (chosen[^1], chosen[..^1], false);
    }

    private async Task<BenchedDiff> RunDiffAsync(string title, string outDir, string science, IReadOnlyList<string> references,
        string[] arguments, CancellationToken ct)
    {
        var (host, cli) = RapidCli();
        var run = await ChildProcess.RunAsync(host, [.. cli, "diff", .. arguments, "--out", outDir, "--overwrite"], ct: ct);
        if (run.ExitCode is not (0 or 32))
            throw new InvalidOperationException($"bench: {title}: rapid diff ended with exit {run.ExitCode}: {run.ErrorTail}");
        progress($"{title}: scoring the difference against the simulator's truth");
        var quality = DifferenceQualityScoring.Score(outDir, science, references);
        return new BenchedDiff(title, DiffJsonContext.Read(Path.Combine(outDir, "manifest.json")), run, quality);
    }

    /// <summary>This CLI (rapid.dll beside the running assembly) and the dotnet host to run it with.</summary>
    private static (string Host, string[] Arguments) RapidCli()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "rapid.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"bench: the CLI {dll} is not built");
        var host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        return (host, [dll]);
    }
}
