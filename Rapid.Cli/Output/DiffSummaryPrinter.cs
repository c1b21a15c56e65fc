using System.Globalization;
using Rapid.Cli.Diff;
using Rapid.Core.Contracts;
using Spectre.Console;

namespace Rapid.Cli.Output;

/// <summary>The few lines <c>rapid diff</c> ends with: what was found, how the images matched, where the time went.</summary>
public static class DiffSummaryPrinter
{
    public static void Print(IAnsiConsole console, DiffOutcome outcome)
    {
        var m = outcome.Manifest;
        var inv = CultureInfo.InvariantCulture;
        // Redirected output (a log file) is not limited to 80 columns: file names stay on one line.
        if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, 120);
        var reference = m.Inputs.ReferenceImage is { } r
            ? $"the reference image {Path.GetFileName(r)}"
            : $"a reference co-added from {m.ReferenceImage?.NFrames ?? m.Inputs.ReferenceInputs.Count} of {m.Inputs.ReferenceInputs.Count} images ({m.Inputs.ReferenceGrid} grid)";
        console.Write(new Rule($"[bold]{Markup.Escape(Path.GetFileName(m.Inputs.Science))}[/] minus {Markup.Escape(reference)}").LeftJustified());

        var facts = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        if (m.DifferenceImage is { } d)
        {
            facts.AddRow("sources", $"[bold]{d.NSources}[/] ({d.NPositive} positive, {d.NNegative} negative) above {m.Settings.DetectionThresholdSigma.ToString("0.##", inv)} sigma");
            facts.AddRow("flux scale", d.ScaleFactor.ToString("0.0000", inv) + " (reference to science)");
            facts.AddRow("astrometry", string.Create(inv, $"dx {d.DxMedian:+0.000;-0.000} ± {d.DxRms:0.000} px, dy {d.DyMedian:+0.000;-0.000} ± {d.DyRms:0.000} px (median ± rms)"));
            facts.AddRow("FWHM", string.Create(inv, $"science {d.FwhmScience:0.00} px, reference {d.FwhmReference:0.00} px"));
            facts.AddRow("background", string.Create(inv, $"science {d.BackgroundScience:G4} DN/s, reference {d.BackgroundReference:G4} DN/s"));
        }
        if (m.ReferenceImage is { } c)
            facts.AddRow("reference", string.Create(inv, $"{c.NFrames} frames, median coverage {c.MedianCoverage:0.0}, {c.NSources} sources, {c.NPixNan} NaN pixels"));
        foreach (var w in m.Warnings) facts.AddRow($"[yellow]warning ({JobWarningKinds.Name(w.Kind)})[/]", Markup.Escape(w.Message));
        console.Write(facts);

        var steps = new Table().Title("Time per step (s)").AddColumn("step").AddColumn(new TableColumn("wall").RightAligned())
            .AddColumn(new TableColumn("cpu").RightAligned());
        foreach (var (step, seconds) in m.StepSeconds)
            steps.AddRow(Markup.Escape(step), seconds.ToString("0.000", inv), m.StepCpuSeconds.TryGetValue(step, out var cpu) ? cpu.ToString("0.000", inv) : "-");
        steps.AddRow("[bold]whole command[/]", $"[bold]{m.WallSeconds.ToString("0.000", inv)}[/]", m.CpuSeconds.ToString("0.000", inv));
        console.Write(steps);

        var peak = m.PeakMemoryBytes > 0 ? $", peak memory {m.PeakMemoryBytes / 1e9:0.00} GB" : "";
        console.MarkupLine($"{m.Products.Count} products in [bold]{Markup.Escape(outcome.OutDirectory)}[/]: " +
            Markup.Escape(string.Join(", ", m.Products.Select(p => p.File))) + $" (exit {m.ExitCode}{peak})");
    }
}
