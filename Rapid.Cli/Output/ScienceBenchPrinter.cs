using System.Globalization;
using Rapid.Cli.Bench;
using Spectre.Console;

namespace Rapid.Cli.Output;

/// <summary>
/// The tables of <c>rapid bench science</c>: per-step wall times of (a) and (b) side by side, their quality against the
/// truth, the yardstick tools' runs, then each case's whole process against its yardstick (the ratio issue 11 targets).
/// </summary>
public static class ScienceBenchPrinter
{
    /// <summary>Issue 4's time targets on a 2-core machine; issue 11's peak memory and its ratio to the SWarp + SExtractor yardstick for (a).</summary>
    private const double TargetExistingSeconds = 8, TargetCoaddSeconds = 20, TargetPeakGb = 3, MaxYardstickRatio = 1.25;

    public static void Print(IAnsiConsole console, ScienceBenchmarkReport report)
    {
        var inv = CultureInfo.InvariantCulture;
        // Redirected output (a file, a CI log) is not limited to 80 columns: keep each row on one line.
        if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, 200);
        var (a, b) = (report.ExistingReference, report.CoaddedReference);
        var o = report.Options;
        console.MarkupLine(string.Create(inv,
            $"Inputs: {o.Frames + 1} simulated images of {o.Size}x{o.Size} ({(report.SimulationCached ? "cached" : $"simulated in {report.Simulation.TotalSeconds:0.0} s")}) in {Markup.Escape(o.CacheDirectory)}; {Environment.ProcessorCount} cores"));

        var steps = new Table().Title(string.Create(inv, $"Science job on {o.Size}x{o.Size}, reference co-added on the {b.Manifest.Inputs.ReferenceGrid} grid: time per step (s; cpu = all threads)"))
            .AddColumn("step")
            .AddColumn(new TableColumn($"{Markup.Escape(a.Title)}: wall").RightAligned()).AddColumn(new TableColumn("cpu").RightAligned())
            .AddColumn(new TableColumn($"{Markup.Escape(b.Title)}: wall").RightAligned()).AddColumn(new TableColumn("cpu").RightAligned());
        var names = b.Manifest.StepSeconds.Keys.Concat(a.Manifest.StepSeconds.Keys).Distinct().ToList();
        foreach (var name in names)
            steps.AddRow(Markup.Escape(name), Seconds(a.Manifest.StepSeconds, name), Seconds(a.Manifest.StepCpuSeconds, name),
                Seconds(b.Manifest.StepSeconds, name), Seconds(b.Manifest.StepCpuSeconds, name));
        steps.AddEmptyRow();
        steps.AddRow("[bold]job steps, total[/]", Bold(a.Manifest.StepSeconds.Values.Sum()), F(a.Manifest.StepCpuSeconds.Values.Sum()),
            Bold(b.Manifest.StepSeconds.Values.Sum()), F(b.Manifest.StepCpuSeconds.Values.Sum()));
        steps.AddRow("rapid diff, whole process", F(a.Process.Wall.TotalSeconds), F(a.Manifest.CpuSeconds), F(b.Process.Wall.TotalSeconds), F(b.Manifest.CpuSeconds));
        steps.AddRow("target (whole process)", Verdict(a.Process.Wall.TotalSeconds, TargetExistingSeconds), "", Verdict(b.Process.Wall.TotalSeconds, TargetCoaddSeconds), "");
        steps.AddRow("peak memory (GB)", Gb(a), "", Gb(b), "");
        steps.AddRow("target (peak memory)", Verdict(Peak(a) / 1e9, TargetPeakGb, "GB"), "", Verdict(Peak(b) / 1e9, TargetPeakGb, "GB"), "");
        steps.AddRow("original system (4 vCPUs)", "~480", "", "~480 (reference 129)", "");
        steps.AddRow("sources found", a.Manifest.DifferenceImage?.NSources.ToString(inv) ?? "-", "", b.Manifest.DifferenceImage?.NSources.ToString(inv) ?? "-", "");
        console.Write(steps);
        DifferenceQualityPrinter.Print(console, a, b);

        if (report.Yardsticks.Count == 0) return;
        var tools = new Table().Title("Yardstick: SWarp and SExtractor on the same images, in the same run")
            .AddColumn("tool").AddColumn("task").AddColumn(new TableColumn("seconds").RightAligned()).AddColumn(new TableColumn("peak GB").RightAligned());
        foreach (var y in report.Yardsticks)
        {
            if (y.Process is { } p && y.Skipped is null)
                tools.AddRow(y.Tool, Markup.Escape(y.Description), F(p.Wall.TotalSeconds), (p.PeakMemoryBytes / 1e9).ToString("0.00", inv));
            else
                tools.AddRow(y.Tool, Markup.Escape(y.Description), "-", $"[yellow]skipped: {Markup.Escape(y.Skipped ?? "")}[/]");
        }
        console.Write(tools);

        var ratios = new Table().Title(string.Create(inv, $"The whole science job against SWarp + SExtractor (issue 11: (a) at most {MaxYardstickRatio:0.00}x, peak memory under {TargetPeakGb:0} GB)"))
            .AddColumn("case").AddColumn(new TableColumn("rapid diff, whole (s)").RightAligned())
            .AddColumn("yardstick").AddColumn(new TableColumn("yardstick (s)").RightAligned())
            .AddColumn(new TableColumn("yardstick ratio").RightAligned()).AddColumn("target")
            .AddColumn(new TableColumn("peak memory (GB)").RightAligned());
        foreach (var (d, resample, target) in new[] { (a, YardstickTask.ResampleReference, true), (b, YardstickTask.CoaddReference, false) })
        {
            var yardstick = YardstickSeconds(report.Yardsticks, resample);
            var wall = d.Process.Wall.TotalSeconds;
            var name = resample == YardstickTask.ResampleReference ? "SWarp resample + SExtractor" : "SWarp co-add + SExtractor";
            ratios.AddRow(Markup.Escape(d.Title), F(wall), name, yardstick is { } s ? F(s) : "-",
                yardstick is { } t ? (wall / t).ToString("0.00", inv) + "x" : "[yellow]n/a (a tool was skipped)[/]",
                target && yardstick is { } u ? Verdict(wall / u, MaxYardstickRatio, "x", inclusive: true) : "",
                Gb(d));
        }
        console.Write(ratios);
    }

    /// <summary>The yardstick of a case: the SWarp run doing its reference work plus SExtractor; null when either was skipped.</summary>
    internal static double? YardstickSeconds(IReadOnlyList<YardstickRun> runs, YardstickTask reference)
    {
        var parts = runs.Where(r => r.Task == reference || r.Task == YardstickTask.ExtractScience).ToList();
        return parts.Count == 2 && parts.All(r => r.Process is not null && r.Skipped is null) ? parts.Sum(r => r.Process!.Wall.TotalSeconds) : null;
    }

    private static string Seconds(IReadOnlyDictionary<string, double> steps, string name) => steps.TryGetValue(name, out var s) ? F(s) : "-";
    private static string F(double seconds) => seconds.ToString("0.000", CultureInfo.InvariantCulture);
    private static string Bold(double seconds) => $"[bold]{F(seconds)}[/]";
    private static long Peak(BenchedDiff d) => d.Manifest.PeakMemoryBytes > 0 ? d.Manifest.PeakMemoryBytes : d.Process.PeakMemoryBytes;
    private static string Gb(BenchedDiff d) => (Peak(d) / 1e9).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Verdict(double value, double target, string unit = "s", bool inclusive = false)
    {
        var bound = $"{(inclusive ? "<=" : "<")} {target.ToString(CultureInfo.InvariantCulture)} {unit}";
        return value < target || (inclusive && value <= target) ? $"[green]{bound}: met[/]" : $"[red]{bound}: missed[/]";
    }
}
