using System.Globalization;
using Rapid.Cli.Bench;
using Spectre.Console;

namespace Rapid.Cli.Output;

/// <summary>The tables of <c>rapid bench science</c>: per-step wall times of (a) and (b) side by side, their quality against the truth, then the yardsticks.</summary>
public static class ScienceBenchPrinter
{
    /// <summary>The targets of issue 4 on a 2-core machine, and what the original system took (4 vCPUs).</summary>
    private const double TargetExistingSeconds = 8, TargetCoaddSeconds = 20, TargetPeakGb = 4;

    public static void Print(IAnsiConsole console, ScienceBenchmarkReport report)
    {
        var inv = CultureInfo.InvariantCulture;
        // Redirected output (a file, a CI log) is not limited to 80 columns: keep each row on one line.
        if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, 150);
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
        var tools = new Table().Title("Yardstick: established tools on the same images")
            .AddColumn("tool").AddColumn("task").AddColumn(new TableColumn("seconds").RightAligned()).AddColumn(new TableColumn("peak GB").RightAligned())
            .AddColumn("Rapid, closest steps").AddColumn(new TableColumn("seconds").RightAligned());
        foreach (var y in report.Yardsticks)
        {
            var (ours, oursSeconds) = y.Tool == "SWarp"
                ? ("(b) reference.download+calibrate+resample+coadd+write", b.Manifest.StepSeconds
                    .Where(kv => kv.Key.StartsWith("reference.", StringComparison.Ordinal) && kv.Key is not ("reference.resample_to_science" or "reference.catalog"))
                    .Sum(kv => kv.Value))
                : ("(a) science.calibrate+background (sci and ref)",
                    Get(a.Manifest.StepSeconds, "science.calibrate") + Get(a.Manifest.StepSeconds, "background"));
            if (y.Process is { } p && y.Skipped is null)
                tools.AddRow(y.Tool, Markup.Escape(y.Task), F(p.Wall.TotalSeconds), (p.PeakMemoryBytes / 1e9).ToString("0.00", inv), Markup.Escape(ours), F(oursSeconds));
            else
                tools.AddRow(y.Tool, Markup.Escape(y.Task), "-", "-", $"[yellow]skipped: {Markup.Escape(y.Skipped ?? "")}[/]", "");
        }
        console.Write(tools);
    }

    private static double Get(IReadOnlyDictionary<string, double> steps, string name) => steps.GetValueOrDefault(name);
    private static string Seconds(IReadOnlyDictionary<string, double> steps, string name) => steps.TryGetValue(name, out var s) ? F(s) : "-";
    private static string F(double seconds) => seconds.ToString("0.000", CultureInfo.InvariantCulture);
    private static string Bold(double seconds) => $"[bold]{F(seconds)}[/]";
    private static long Peak(BenchedDiff d) => d.Manifest.PeakMemoryBytes > 0 ? d.Manifest.PeakMemoryBytes : d.Process.PeakMemoryBytes;
    private static string Gb(BenchedDiff d) => (Peak(d) / 1e9).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Verdict(double value, double target, string unit = "s") =>
        value < target
            ? $"[green]< {target.ToString(CultureInfo.InvariantCulture)} {unit}: met[/]"
            : $"[red]< {target.ToString(CultureInfo.InvariantCulture)} {unit}: missed[/]";
}
