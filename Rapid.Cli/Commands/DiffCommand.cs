using System.CommandLine;
using Rapid.Cli.Diff;
using Rapid.Cli.Output;
using Rapid.Core.Contracts;
using Spectre.Console;

namespace Rapid.Cli.Commands;

/// <summary>
/// <c>rapid diff</c>: the science pipeline on local files, for scientists tuning it. Runs the same job as the
/// nightly workflow (see <see cref="DiffRunner"/>) and leaves its products in --out.
/// </summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var defaults = new PipelineSettings();
        var science = new Option<string>("--science") { Description = "Science image (FITS, DN; image in the primary HDU or SCI; TAN or TAN-SIP WCS; EXPTIME)", Required = true };
        var reference = new Option<string[]>("--reference")
        {
            Description = "Images (DN, like the science image) to co-add into the reference, on the science grid",
            AllowMultipleArgumentsPerToken = true,
        };
        var referenceImage = new Option<string?>("--reference-image") { Description = "An existing reference image (DN/s, with a WCS) instead of --reference" };
        var referenceCoverage = new Option<string?>("--reference-coverage") { Description = "Coverage map of --reference-image (frames per pixel; default: its NFRAMES wherever it has data)" };
        var referenceUncertainty = new Option<string?>("--reference-uncertainty") { Description = "1-sigma uncertainty map of --reference-image (DN/s; default: its clipped pixel scatter everywhere)" };
        var sciencePsf = new Option<string?>("--science-psf") { Description = "PSF stamp of the science image (FITS; default: estimated from its stars)" };
        var referencePsf = new Option<string?>("--reference-psf") { Description = "PSF stamp of the reference (FITS; default: estimated from its stars)" };
        var outDir = new Option<string>("--out", "-o") { Description = "Directory for the products; made in one rename at the end (nothing is left in it on failure)", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an --out directory that already holds files" };
        var threshold = new Option<double?>("--threshold") { Description = $"Detection threshold on the score image, sigma (default {defaults.DetectionThresholdSigma})" };
        var clip = new Option<double?>("--clip-sigma") { Description = $"Outlier rejection of the reference co-add, sigma (default {defaults.CoaddClipSigma})" };
        var minCoverage = new Option<double?>("--min-coverage") { Description = $"Difference pixels covered by fewer reference frames than this are masked (default {defaults.MinReferenceCoverage})" };
        var mesh = new Option<int?>("--background-mesh") { Description = $"Background mesh (tile) size in pixels (default {defaults.BackgroundMeshSize})" };
        var minInputs = new Option<int?>("--min-reference-inputs") { Description = $"Fewest usable --reference images (default {defaults.MinReferenceInputs}); fewer ends with exit 33" };
        var maxInputs = new Option<int?>("--max-reference-inputs") { Description = $"Most --reference images co-added; the first ones given are used (default {defaults.MaxReferenceInputs})" };
        var fakes = new Option<int?>("--fake-sources") { Description = "Measure this many injected point sources as the nightly jobs do (injrecov.fits; never in the other products; default 0)" };
        var tileGrid = new Option<int?>("--tile-grid") { Description = "Co-add onto the sky tile grid of the science image's field, N x N pixels at 0.11\"/px (as the nightly jobs do), instead of the science grid" };
        var profile = new Option<string?>("--settings") { Description = "A settings profile (JSON: schemaVersion, name, settings; see docs/settings.md) to start from; the options below and --set apply on top" };
        var set = new Option<string[]>("--set")
        {
            Description = $"Any pipeline setting as name=value (repeatable); settings and defaults: {PipelineSettingsOverrides.Describe()}",
            AllowMultipleArgumentsPerToken = false,
        };
        var verbose = CommonOptions.Verbose();
        verbose.Description = "Print the job's log as it runs, and stack traces of errors";
        var command = new Command("diff",
            "Difference imaging on local files: the science pipeline (reference co-add, resampling, background, PSFs, flux matching, " +
            "subtraction, detection, photometry) as a nightly job runs it. Products: diffimage.fits, diffimage_uncert.fits, scorr.fits and " +
            "diffpsf.fits (when the pipeline makes them), refimage*.fits, sources.fits, manifest.json (checksums, metadata, timings) and diff.log. " +
            "Exit codes: 0 done, 32 done with warnings (in manifest.json), 33 no reference possible, 65 an input is not usable, 2 bad options.")
        {
            science, reference, referenceImage, referenceCoverage, referenceUncertainty, sciencePsf, referencePsf, outDir, overwrite,
            threshold, clip, minCoverage, mesh, minInputs, maxInputs, tileGrid, fakes, profile, set, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var settings = parse.GetValue(profile) is { } profileFile ? SettingsProfileOption.Load(profileFile).Settings : defaults with { };
            if (parse.GetValue(threshold) is double t) settings.DetectionThresholdSigma = Positive(t, "--threshold");
            if (parse.GetValue(clip) is double c) settings.CoaddClipSigma = Positive(c, "--clip-sigma");
            if (parse.GetValue(minCoverage) is double m)
                settings.MinReferenceCoverage = m is >= 0 and <= 1 ? m : throw new ArgumentException($"diff: --min-coverage {m}: must be within 0..1");
            if (parse.GetValue(mesh) is int ms) settings.BackgroundMeshSize = ms >= 8 ? ms : throw new ArgumentException($"diff: --background-mesh {ms}: must be at least 8 pixels");
            if (parse.GetValue(minInputs) is int mi) settings.MinReferenceInputs = mi >= 1 ? mi : throw new ArgumentException($"diff: --min-reference-inputs {mi}: must be at least 1");
            if (parse.GetValue(maxInputs) is int mx) settings.MaxReferenceInputs = mx >= 1 ? mx : throw new ArgumentException($"diff: --max-reference-inputs {mx}: must be at least 1");
            settings = PipelineSettingsOverrides.Apply(settings, parse.GetValue(set) ?? []);
            var request = new DiffRequest
            {
                Science = parse.GetValue(science)!,
                ReferenceInputs = parse.GetValue(reference) ?? [],
                ReferenceImage = parse.GetValue(referenceImage),
                ReferenceCoverage = parse.GetValue(referenceCoverage),
                ReferenceUncertainty = parse.GetValue(referenceUncertainty),
                SciencePsf = parse.GetValue(sciencePsf),
                ReferencePsf = parse.GetValue(referencePsf),
                OutDirectory = parse.GetValue(outDir)!,
                Overwrite = parse.GetValue(overwrite),
                TileGridPixels = parse.GetValue(tileGrid),
                FakeSources = parse.GetValue(fakes) is int f ? (f >= 0 ? f : throw new ArgumentException($"diff: --fake-sources {f}: must not be negative")) : 0,
                Settings = settings,
                SettingsProfile = parse.GetValue(profile) is { } named ? SettingsProfileOption.Load(named).Name : null,
            };
            request.Validate();
            var console = ConsoleOutput.Create();
            var echo = parse.GetValue(verbose);
            Action<string>? status = null;
            var runner = new DiffRunner(line =>
            {
                if (echo) Console.Error.WriteLine(line);
                if (StepStarted(line) is { } step) status?.Invoke($"Running the science job: {Markup.Escape(step)}...");
            });
            // The spinner only where someone watches; redirected output gets the summary alone.
            var outcome = console.Profile.Capabilities.Interactive
                ? await console.Status().StartAsync("Checking the inputs...", async ctx =>
                {
                    status = text => ctx.Status(text);
                    return await runner.RunAsync(request, ct);
                })
                : await runner.RunAsync(request, ct);
            DiffSummaryPrinter.Print(console, outcome);
            return outcome.Manifest.ExitCode;
        }));
        return command;
    }

    private static double Positive(double value, string option) =>
        value > 0 && double.IsFinite(value) ? value : throw new ArgumentException($"diff: {option} {value}: must be positive");

    // Job log lines look like "2026-12-01T08:00:00.000Z step reference.resample: start".
    private static string? StepStarted(string line)
    {
        var at = line.IndexOf(" step ", StringComparison.Ordinal);
        return at >= 0 && line.EndsWith(": start", StringComparison.Ordinal) ? line[(at + 6)..^7] : null;
    }
}
