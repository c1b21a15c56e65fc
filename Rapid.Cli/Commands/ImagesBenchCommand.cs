using System.CommandLine;
using System.Globalization;
using Rapid.Cli.Bench.ImageSets;
using Rapid.Cli.Embedded;
using Rapid.Cli.Output;
using Spectre.Console;

namespace Rapid.Cli.Commands;

/// <summary>
/// <c>rapid bench images</c>: issue 11's quality targets measured on the independent image sets (fitsh, GNU Astronomy
/// Utilities, photutils; <see cref="IndependentImageSets"/>), one table of measured against target per renderer. The
/// quality tests assert the targets that are met; this prints every figure, met or not. With <c>--seeds N</c> each set is
/// also rendered with N − 1 more seeds (the same spec) and the 50 % completeness magnitude is fitted to all of them
/// together (<see cref="ImageSetScorer.PooledMagnitude50BelowLimit"/>): one set measures it to ±0.1-0.16 mag only. Every
/// run also prints it for the changes on empty sky alone and how many variables and transients of true S/N >= 8 were
/// found: a variable's host adds its source noise and the subtraction's residual terms, which a curve in magnitude
/// cannot tell from depth.
/// </summary>
internal static class ImagesBenchCommand
{
    public static Command Create()
    {
        var renderers = new Option<string>("--renderers")
        {
            Description = $"Comma-separated renderers ({string.Join(", ", ImageSetRenderers.All)})",
            DefaultValueFactory = _ => string.Join(",", IndependentImageSets.Standard.Select(s => s.Renderer)),
        };
        var seeds = new Option<int>("--seeds")
        {
            Description = "Render and measure each set with this many seeds (its own and the next ones, each +100); the table shows the standard sets, "
                          + "and the 50 % completeness magnitude is also fitted to all seeds' changes together (one set measures it to ±0.1-0.16 mag)",
            DefaultValueFactory = _ => 1,
        };
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("images",
            "Measure issue 11's quality targets on image sets rendered by fitsh, GNU Astronomy Utilities and photutils (rapid diff on each, " +
            "scored against the renderer's truth); the sets and products are kept under --home (bench/images/)")
        {
            renderers, seeds, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var wanted = parse.GetValue(renderers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var unknown = wanted.Where(r => !IndependentImageSets.Standard.Any(s => s.Renderer == r)).ToList();
            if (unknown.Count > 0) throw new ArgumentException($"bench images: --renderers: no set rendered by {string.Join(", ", unknown)} (renderers: {string.Join(", ", ImageSetRenderers.All)})");
            var count = parse.GetValue(seeds);
            if (count is < 1 or > 50) throw new ArgumentException($"bench images: --seeds must be 1 to 50, not {count}");
            var root = Path.Combine(new RapidHome(parse.GetValue(home)!).Path, "bench", "images");
            var measured = new List<(ImageSetSpec Spec, ScienceQuality Quality)>();
            var pooled = new List<(ImageSetSpec Spec, List<ScienceQuality> Sets)>();
            foreach (var standard in IndependentImageSets.Standard.Where(s => wanted.Contains(s.Renderer)))
            {
                var sets = new List<ScienceQuality>();
                for (var k = 0; k < count; k++)
                {
                    var spec = standard with { Seed = standard.Seed + 100 * k };
                    Console.Error.WriteLine($"rapid: {spec.Renderer} (seed {spec.Seed}): rendering {spec.Size}x{spec.Size} + {spec.References} reference frames, rapid diff, scoring");
                    sets.Add(await IndependentImageSets.MeasureAsync(spec, Path.Combine(root, k == 0 ? spec.Renderer : $"{spec.Renderer}-seed{spec.Seed}"), ct));
                }
                measured.Add((standard, sets[0]));
                pooled.Add((standard, sets));
            }
            var console = ConsoleOutput.Create();
            Print(console, measured);
            PrintPooled(console, pooled);
            return 0;
        }));
        return command;
    }

    private static void Print(IAnsiConsole console, IReadOnlyList<(ImageSetSpec Spec, ScienceQuality Quality)> measured)
    {
        if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, 180);
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Title("Issue 11's targets on independently rendered images (measured; met or missed)").AddColumn("target").AddColumn("wanted");
        foreach (var (spec, _) in measured)
            table.AddColumn(new TableColumn(Markup.Escape(string.Create(inv, $"{spec.Renderer} (FWHM {spec.ScienceFwhm}/{spec.ReferenceFwhm} px)"))).RightAligned());
        var targets = measured[0].Quality.Targets;
        for (var i = 0; i < targets.Count; i++)
        {
            var cells = new List<string> { Markup.Escape(targets[i].Measure), Markup.Escape(targets[i].Target) };
            foreach (var (_, q) in measured)
            {
                var t = q.Targets[i];
                var value = t.Measure.StartsWith("completeness", StringComparison.Ordinal) || t.Measure.StartsWith("median |FLUX", StringComparison.Ordinal)
                    ? (t.Measured * 100).ToString("0.0", inv) + " %"
                    : t.Measured.ToString("0.###", inv);
                cells.Add($"{(t.Met ? "[green]" : "[red]")}{Markup.Escape(value)}[/] {Markup.Escape(t.Detail)}");
            }
            table.AddRow([.. cells]);
        }
        console.Write(table);
        foreach (var (spec, q) in measured)
            console.MarkupLine(Markup.Escape(string.Create(inv,
                $"{spec.Renderer}: FLUXERR / ideal error at true S/N 5-20 {q.ErrorOverIdeal:F3} (median; {2.5 * Math.Log10(q.ErrorOverIdeal):F3} mag of depth)")));
        foreach (var (spec, q) in measured)
            foreach (var s in q.FalseSites)
                console.MarkupLine(Markup.Escape($"{spec.Renderer}: false detections {s.What}: {s.Count}"));
    }

    private static void PrintPooled(IAnsiConsole console, IReadOnlyList<(ImageSetSpec Spec, List<ScienceQuality> Sets)> pooled)
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (var (spec, sets) in pooled)
        {
            var (value, error) = ImageSetScorer.PooledMagnitude50BelowLimit(sets);
            var each = string.Join(", ", sets.Select(q => string.Create(inv, $"{q.Magnitude50 - q.Limit5Sigma:+0.000;-0.000} ± {q.Magnitude50Error:F2}")));
            if (sets.Count > 1)
                console.MarkupLine(Markup.Escape(string.Create(inv,
                    $"{spec.Renderer}: 50 % completeness mag - 5 sigma limit fitted to {sets.Count} sets ({sets.Sum(q => q.Changes)} changes): {value:+0.000;-0.000} ± {error:F3} mag (each set: {each})")));
            if (sets.Count > 1)
            {
                var (rms, mean, count) = ImageSetScorer.PooledPull(sets);
                var eachPull = string.Join(", ", sets.Select(q => string.Create(inv, $"{q.PullRms:F3}")));
                console.MarkupLine(Markup.Escape(string.Create(inv,
                    $"{spec.Renderer}: pull rms over {sets.Count} sets ({count} pulls at true S/N >= 10): {rms:F3}, mean {mean:+0.00;-0.00} (each set: {eachPull})")));
            }
            var (sky, skyError) = ImageSetScorer.PooledMagnitude50BelowLimit(sets, emptySkyOnly: true);
            var (onStar, onStarOf) = (sets.Sum(q => q.SnrAtLeast8OnStar.Found), sets.Sum(q => q.SnrAtLeast8OnStar.Of));
            var (onSky, onSkyOf) = (sets.Sum(q => q.SnrAtLeast8OnEmptySky.Found), sets.Sum(q => q.SnrAtLeast8OnEmptySky.Of));
            console.MarkupLine(Markup.Escape(string.Create(inv,
                $"{spec.Renderer}: 50 % completeness mag - 5 sigma limit on empty sky only (no variables; {sets.Count} set(s)) {sky:+0.000;-0.000} ± {skyError:F3} mag; found at true S/N >= 8: variables {onStar} of {onStarOf}, transients {onSky} of {onSkyOf}")));
        }
    }
}
