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
/// quality tests assert the targets that are met; this prints every figure, met or not.
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
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("images",
            "Measure issue 11's quality targets on image sets rendered by fitsh, GNU Astronomy Utilities and photutils (rapid diff on each, " +
            "scored against the renderer's truth); the sets and products are kept under --home (bench/images/)")
        {
            renderers, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var wanted = parse.GetValue(renderers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var unknown = wanted.Where(r => !IndependentImageSets.Standard.Any(s => s.Renderer == r)).ToList();
            if (unknown.Count > 0) throw new ArgumentException($"bench images: --renderers: no set rendered by {string.Join(", ", unknown)} (renderers: {string.Join(", ", ImageSetRenderers.All)})");
            var root = Path.Combine(new RapidHome(parse.GetValue(home)!).Path, "bench", "images");
            var measured = new List<(ImageSetSpec Spec, ScienceQuality Quality)>();
            foreach (var spec in IndependentImageSets.Standard.Where(s => wanted.Contains(s.Renderer)))
            {
                Console.Error.WriteLine($"rapid: {spec.Renderer}: rendering {spec.Size}x{spec.Size} + {spec.References} reference frames, rapid diff, scoring");
                measured.Add((spec, await IndependentImageSets.MeasureAsync(spec, Path.Combine(root, spec.Renderer), ct)));
            }
            Print(ConsoleOutput.Create(), measured);
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
            foreach (var s in q.FalseSites)
                console.MarkupLine(Markup.Escape($"{spec.Renderer}: false detections {s.What}: {s.Count}"));
    }
}
