using Rapid.Cli.Engine;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Functions.Steps;
using Spectre.Console;

namespace Rapid.Cli.Output;

/// <summary>Prints what a night did: jobs by pipeline/status/exit code, failures, products, stage times.</summary>
public static class NightSummaryPrinter
{
    /// <param name="console">Where to print; the terminal when null (tests pass a recording console).</param>
    public static void Print(NightSummary summary, IReadOnlyList<StageReport>? stages = null, string? productsLocation = null, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        console.Write(new Rule($"[bold]Processing date {summary.ProcDate}[/]").LeftJustified());

        var jobs = new Table().Title("Jobs").AddColumns("pipeline", "status", "exit code", "meaning", "jobs");
        foreach (var j in summary.Jobs)
            jobs.AddRow(Markup.Escape($"{j.Ppid} {PipelineIds.Describe(j.Ppid)}"), j.Status == 1 ? "closed" : "open",
                j.ExitCode?.ToString() ?? "-", Markup.Escape(j.ExitCode is { } c ? ExitCodes.Describe(c) : "not ended"), j.Count.ToString());
        console.Write(jobs);

        if (summary.Failures.Count > 0)
        {
            var failures = new Table().Title("Warnings and failures").AddColumns("jid", "ppid", "exit", "what", "reason");
            foreach (var f in summary.Failures.Take(50))
                failures.AddRow(f.Jid.ToString(), f.Ppid.ToString(), f.ExitCode?.ToString() ?? "-",
                    Markup.Escape(f.Rid is { } rid ? $"rid {rid}" : $"field {f.Field} fid {f.Fid}"), Markup.Escape(f.Reason ?? ""));
            if (summary.Failures.Count > 50) failures.Caption($"... and {summary.Failures.Count - 50} more");
            console.Write(failures);
        }

        if (summary.Warnings.Count > 0)
        {
            var kinds = new Table().Title("Warnings by kind").AddColumns("pipeline", "kind", "jobs");
            foreach (var w in summary.Warnings) kinds.AddRow(w.Ppid.ToString(), Markup.Escape(w.Kind), w.Jobs.ToString());
            console.Write(kinds);
        }

        var products = new Table().Title("Products registered").AddColumns("what", "count");
        products.AddRow("reference images", summary.ReferenceImages.ToString());
        products.AddRow("difference images", summary.DifferenceImages.ToString());
        products.AddRow("sources found", summary.SourcesFound.ToString());
        console.Write(products);

        PrintRecovery(console, summary);

        var timing = new Table().Title("Job run times (s)").AddColumns("pipeline", "jobs", "total", "mean", "max");
        foreach (var t in summary.Elapsed)
            timing.AddRow(t.Ppid.ToString(), t.Jobs.ToString(), $"{t.TotalSeconds:0.0}", $"{t.MeanSeconds:0.0}", $"{t.MaxSeconds:0.0}");
        if (summary.Elapsed.Count > 0) console.Write(timing);

        if (stages is not null)
        {
            var wall = new Table().Title("Wall time per stage").AddColumns("stage", "seconds", "outcome");
            foreach (var s in stages)
                wall.AddRow(Markup.Escape(s.Stage.Title()), $"{s.Elapsed.TotalSeconds:0.00}", Markup.Escape(s.Outcome));
            console.Write(wall);
        }
        if (productsLocation is not null) console.MarkupLine($"Products are in [bold]{Markup.Escape(productsLocation)}[/]");
    }

    /// <summary>Completeness per filter and kind, then completeness and flux bias per magnitude bin.</summary>
    private static void PrintRecovery(IAnsiConsole console, NightSummary summary)
    {
        if (summary.Recovery.Count == 0) return;
        // Compact (simple border, one space between columns): ten columns fit an 80-column terminal.
        var figures = Compact(new Table().Title("Injection-recovery"),
            "filter", "kind", "imgs", "inj", "found", "compl%", "m50", "m90", "bias%", "FP/deg²");
        foreach (var r in summary.Recovery)
            figures.AddRow(Markup.Escape(r.Filter), Kind(r.Kind), r.Images.ToString(), r.Injected.ToString(), r.Found.ToString(), Percent(r.Completeness),
                Mag(r.Mag50), Mag(r.Mag90), Percent(r.FluxBias), r.FalsePositivesPerDeg2 is double fp && double.IsFinite(fp) ? $"{fp:0}" : "-");
        figures.Caption("fake: injected point sources; truth: the simulator's transients (simulated nights). compl: found/injected; "
                        + "m50/m90: 50 %/90 % completeness magnitude (AB); bias: median (measured − injected)/injected flux; "
                        + "FP: positive detections matching no fake or truth object, per deg².");
        console.Write(figures);

        var bins = Compact(new Table().Title("Completeness vs magnitude"), "filter", "kind", "mag", "injected", "found", "compl %", "bias %");
        var filters = summary.Recovery.ToDictionary(r => (r.Fid, r.Kind), r => r.Filter);
        foreach (var b in summary.RecoveryBins)
            bins.AddRow(Markup.Escape(filters.GetValueOrDefault((b.Fid, b.Kind), b.Fid.ToString())), Kind(b.Kind), $"{b.MagLow:0.00}–{b.MagHigh:0.00}",
                b.Injected.ToString(), b.Found.ToString(), Percent(b.Completeness), Percent(b.FluxBias));
        console.Write(bins);
    }

    /// <summary>The kind as shown: "transient" rows are the simulator's truth transients.</summary>
    private static string Kind(string kind) => kind == "transient" ? "truth" : kind;

    private static Table Compact(Table table, params string[] columns)
    {
        table.Border(TableBorder.Simple);
        foreach (var c in columns) table.AddColumn(new TableColumn(c).PadLeft(0).PadRight(1));
        return table;
    }

    private static string Mag(double? m) => m is double v && double.IsFinite(v) ? $"{v:0.00}" : "-";

    private static string Percent(double? f) => f is double v && double.IsFinite(v) ? $"{v * 100:0.0}" : "-";
}
