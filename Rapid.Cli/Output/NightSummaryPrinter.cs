using System.Globalization;
using Rapid.Core.Pipelines;
using Rapid.Functions.Report;
using Rapid.Functions.Report.Data;
using Rapid.Functions.Steps;
using Spectre.Console;

namespace Rapid.Cli.Output;

/// <summary>What the console shows of a night, at the end of a run and for <c>rapid status</c>.</summary>
/// <param name="Verdict">The night's verdict as the report judges it (null when it could not be judged).</param>
/// <param name="ReportFile">Where the night report is on disk (null: none).</param>
/// <param name="ReportError">Why there is no report.</param>
/// <param name="ProductsLocation">Where the night's products are.</param>
public sealed record NightView(NightSummary Summary, NightVerdict? Verdict, string? ReportFile, string? ReportError, string? ProductsLocation);

/// <summary>
/// The night in a screenful: the verdict first, where the report is, then one compact table of jobs by pipeline and
/// outcome, products, completeness per filter, warnings and the first failures with the command that shows their log.
/// The magnitude bins stay in the report (and <c>rapid status --bins</c>), so nothing pushes the key figures off screen.
/// </summary>
public static class NightSummaryPrinter
{
    /// <summary>Failure reasons listed on the console (commonest first); the report lists them all, with their logs.</summary>
    public const int ReasonsListed = 5;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Print(IAnsiConsole console, NightView view, bool bins = false)
    {
        var s = view.Summary;
        var verdict = view.Verdict;
        console.Write(new Rule($"[bold]Night {s.ProcDate}[/]" + (verdict is null ? "" : $": {VerdictMarkup(verdict)}")).LeftJustified());
        if (verdict is not null)
        {
            console.MarkupLine(Markup.Escape(Capitalised(verdict.Headline)) + ".");
            foreach (var d in verdict.Details.Skip(1)) console.MarkupLine($"  • {Markup.Escape(d)}");
        }
        if (view.ReportFile is not null) console.MarkupLine($"Report: [bold]{Markup.Escape(view.ReportFile)}[/]");
        if (view.ReportError is not null) console.MarkupLine($"[yellow]No report: {Markup.Escape(view.ReportError)}[/]");

        PrintJobs(console, s);
        console.MarkupLine(string.Create(Inv, $"Products: {s.ReferenceImages:N0} reference images, {s.DifferenceImages:N0} difference images, {s.SourcesFound:N0} sources"));
        if (view.ProductsLocation is not null) console.MarkupLine($"  in [bold]{Markup.Escape(view.ProductsLocation)}[/]");
        PrintRecovery(console, s);
        if (s.Warnings.Count > 0)
            console.MarkupLine("Warnings: " + Markup.Escape(string.Join(", ", s.Warnings.Select(w => string.Create(Inv, $"{w.Kind} {w.Jobs:N0} (ppid {w.Ppid})")))));
        PrintFailures(console, s);
        if (bins) PrintBins(console, s);
    }

    private static void PrintJobs(IAnsiConsole console, NightSummary s)
    {
        if (s.Jobs.Count == 0) return;
        var outcomes = new[] { JobOutcomeClass.Succeeded, JobOutcomeClass.Degraded, JobOutcomeClass.NoReference, JobOutcomeClass.Failed, JobOutcomeClass.Lost, JobOutcomeClass.Open };
        var table = Compact(new Table(), ["pipeline", .. outcomes.Select(o => o.Title()), "wall s"]);
        table.Columns[0].NoWrap();
        foreach (var ppid in s.Jobs.Select(j => j.Ppid).Distinct().Order())
        {
            var counts = s.Jobs.Where(j => j.Ppid == ppid).GroupBy(j => JobOutcomeClasses.Of(j.Status, j.ExitCode)).ToDictionary(g => g.Key, g => g.Sum(j => j.Count));
            var wall = s.Elapsed.FirstOrDefault(e => e.Ppid == ppid)?.TotalSeconds;
            table.AddRow([Markup.Escape($"{ppid} {PipelineIds.Label(ppid)}"),
                .. outcomes.Select(o => Count(counts.GetValueOrDefault(o), o)), wall is double w ? w.ToString("0", Inv) : "-"]);
        }
        console.Write(table);
    }

    private static string Count(int n, JobOutcomeClass outcome) =>
        n == 0 ? "[dim]0[/]" : outcome.IsFault() ? $"[red]{n:N0}[/]" : outcome == JobOutcomeClass.Degraded ? $"[yellow]{n:N0}[/]" : n.ToString("N0", Inv);

    /// <summary>One row per filter and kind: found of injected, m50, m90, flux bias, unexplained detections.</summary>
    private static void PrintRecovery(IAnsiConsole console, NightSummary s)
    {
        if (s.Recovery.Count == 0) return;
        var table = Compact(new Table(), "recovery", "found", "compl", "m50", "m90", "flux bias", "unexpl./deg²");
        table.Columns[0].NoWrap();
        foreach (var r in s.Recovery)
            table.AddRow(Markup.Escape($"{r.Filter} {(r.Kind == "fake" ? "fakes" : "truth")}"), string.Create(Inv, $"{r.Found:N0} of {r.Injected:N0}"),
                Percent(r.Completeness), Mag(r.Mag50), Mag(r.Mag90), Percent(r.FluxBias),
                r.FalsePositivesPerDeg2 is double fp && double.IsFinite(fp) ? fp.ToString("N0", Inv) : "-");
        console.Write(table);
    }

    /// <summary>
    /// The jobs that did not finish, grouped by pipeline, exit code and reason (its numbers and paths made alike, as the
    /// report groups them): one line per reason, cut to the console's width, with the command that shows the first job's log.
    /// </summary>
    private static void PrintFailures(IAnsiConsole console, NightSummary s)
    {
        static JobOutcomeClass Outcome(JobFailure f) => JobOutcomeClasses.Of(f.ExitCode is null ? 0 : 1, f.ExitCode);
        var faults = s.Failures.Where(f => Outcome(f).IsFault()).ToList();
        if (faults.Count == 0) return;
        var groups = faults.GroupBy(f => (f.Ppid, Outcome: Outcome(f), f.ExitCode, Pattern: FailureReasons.Pattern(f.Reason)))
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Ppid).ThenBy(g => g.Key.Pattern, StringComparer.Ordinal).ToList();
        console.MarkupLine(string.Create(Inv, $"[red]{faults.Count:N0} jobs did not finish[/], for {groups.Count:N0} reasons")
            + (groups.Count > ReasonsListed ? $" (the {ReasonsListed} commonest; the report has them all)" : "") + ":");
        foreach (var g in groups.Take(ReasonsListed))
        {
            var head = string.Create(Inv, $"  {g.Count(),3:N0} × ppid {g.Key.Ppid} ") + (g.Key.ExitCode is { } c ? $"exit {c}: " : "open: ");
            var tail = g.Key.Outcome == JobOutcomeClass.Failed ? $" (rapid logs {g.Min(f => f.Jid)})" : "";
            console.WriteLine(head + Fit(g.Key.Pattern, console.Profile.Width - head.Length - tail.Length) + tail);
        }
    }

    /// <summary>The text, cut with an ellipsis to at most <paramref name="width"/> characters (never below 20).</summary>
    private static string Fit(string text, int width)
    {
        width = Math.Max(20, width);
        return text.Length <= width ? text : text[..(width - 1)] + "…";
    }

    private static void PrintBins(IAnsiConsole console, NightSummary s)
    {
        if (s.RecoveryBins.Count == 0) return;
        var filters = s.Recovery.GroupBy(r => r.Fid).ToDictionary(g => g.Key, g => g.First().Filter);
        var table = Compact(new Table().Title("Completeness against magnitude"), "filter", "kind", "mag", "injected", "found", "compl %", "bias %");
        foreach (var b in s.RecoveryBins)
            table.AddRow(Markup.Escape(filters.GetValueOrDefault(b.Fid, b.Fid.ToString(Inv))), b.Kind == "transient" ? "truth" : b.Kind,
                string.Create(Inv, $"{b.MagLow:0.00}–{b.MagHigh:0.00}"), b.Injected.ToString(Inv), b.Found.ToString(Inv),
                (100 * b.Completeness).ToString("0.0", Inv), b.FluxBias is double fb && double.IsFinite(fb) ? (100 * fb).ToString("0.0", Inv) : "-");
        console.Write(table);
    }

    /// <summary>Where the night report is, its verdict and size: the line that points a person to the page.</summary>
    public static void PrintReportLine(IAnsiConsole console, PublishedReport report, string file)
    {
        var v = report.Verdict;
        console.MarkupLine($"Night report of {report.Model.ProcDate}: {VerdictMarkup(v)} {Markup.Escape(v.Headline)}");
        console.MarkupLine($"  [bold]{Markup.Escape(file)}[/] ({Markup.Escape(HumanBytes(report.Bytes))}, made in {report.Elapsed.TotalSeconds.ToString("0.0", Inv)} s)");
    }

    /// <summary>The verdict's word in its colour (green, yellow, red).</summary>
    public static string VerdictMarkup(NightVerdict v) => v.Level switch
    {
        NightVerdictLevel.Good => $"[bold green]{v.Word}[/]",
        NightVerdictLevel.Degraded => $"[bold yellow]{v.Word}[/]",
        NightVerdictLevel.Failures => $"[bold red]{v.Word}[/]",
        _ => $"[bold]{v.Word}[/]",
    };

    private static string HumanBytes(long bytes) =>
        bytes >= 1 << 20 ? (bytes / (double)(1 << 20)).ToString("0.0 MiB", Inv) : bytes >= 1 << 10 ? (bytes / 1024.0).ToString("0 KiB", Inv) : $"{bytes} B";

    /// <summary>Simple border, one space between columns: the jobs table fits 80 columns.</summary>
    private static Table Compact(Table table, params string[] columns)
    {
        table.Border(TableBorder.Simple);
        var first = true;
        foreach (var c in columns)
        {
            table.AddColumn(first ? new TableColumn(c).PadLeft(0).PadRight(1) : new TableColumn(c).RightAligned().PadLeft(0).PadRight(1));
            first = false;
        }
        return table;
    }

    private static string Mag(double? m) => m is double v && double.IsFinite(v) ? v.ToString("0.00", Inv) : "-";

    private static string Percent(double? f) => f is double v && double.IsFinite(v) ? (v * 100).ToString("0.0", Inv) + " %" : "-";

    private static string Capitalised(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
