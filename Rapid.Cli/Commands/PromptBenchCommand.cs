using System.CommandLine;
using System.Globalization;
using Rapid.Cli.Bench;
using Rapid.Cli.Embedded;
using Rapid.Cli.Output;
using Spectre.Console;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid bench prompt</c>: the latency from an image landing to its registered difference image (target under 60 s embedded).</summary>
internal static class PromptBenchCommand
{
    public static Command Create()
    {
        var size = new Option<int>("--size") { Description = "Image size in pixels (square; Roman SCAs are 4088)", DefaultValueFactory = _ => 4088 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs simulated (at least 5: 3 for the reference, 1 processed first, 1 landing)", DefaultValueFactory = _ => 5 };
        var parallel = CommonOptions.Parallel();
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("prompt",
            "Time prompt processing: a simulated image lands on a tile that has a reference; ingest, science job, registration and post-processing " +
            "until its difference image is registered (target < 60 s embedded). In a scratch database (dropped); the images and products go under --home (bench/prompt/).")
        {
            size, epochs, parallel, db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var n = parse.GetValue(size);
            if (n < 64) throw new ArgumentException($"bench prompt: --size {n}: must be at least 64 pixels");
            var rapidHome = new RapidHome(parse.GetValue(home)!);
            var cs = await rapidHome.ResolveConnectionStringAsync(parse.GetValue(db), line => Console.Error.WriteLine($"rapid: {line}"), ct);
            var benchHome = new RapidHome(Path.Combine(rapidHome.Path, "bench", "prompt"));
            var report = await PromptBenchmark.RunAsync(cs, benchHome, n, parse.GetValue(epochs), parse.GetValue(parallel),
                line => Console.Error.WriteLine($"rapid: {line}"), ct);
            string S(TimeSpan t) => t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);
            var table = new Table().Title($"Prompt benchmark: one {report.Size}x{report.Size} image landing on a tile with a reference")
                .AddColumns("step", "seconds");
            table.AddRow("set-up: simulate the survey", S(report.Simulate));
            table.AddRow("set-up: reference and the previous epoch", S(report.Reference));
            table.AddRow("ingest (header, checksum, store, register)", S(report.Ingest));
            foreach (var stage in report.Stages) table.AddRow("  " + Markup.Escape(stage.Stage.ToString()), S(stage.Elapsed));
            var verdict = report.Latency is not { } latency ? "[red]no difference image[/]"
                : latency < PromptBenchmarkReport.Target ? "[green]target met[/]" : "[red]target missed[/]";
            table.AddRow("[bold]latency: landed → difference image registered[/]",
                $"[bold]{(report.Latency is { } l ? S(l) : "-")}[/] (target < {PromptBenchmarkReport.Target.TotalSeconds:0}: {verdict})");
            table.AddRow("landed → post-processed (ids stamped, canonical names)", S(report.PostProcessed));
            table.Caption(FormattableString.Invariant(
                $"difference image {report.DiffImage ?? "none"} (exit {report.ExitCode}); load average (1 min) {report.LoadAverage.Before:0.00} before, {report.LoadAverage.After:0.00} after, on {Environment.ProcessorCount} cores; rapid watch adds its --settle time (2 s by default) and up to one --poll interval (1 s) before the ingest"));
            ConsoleOutput.Create().Write(table);
            return report.DiffImage is null ? CommandErrors.JobsFailed : 0;
        }));
        return command;
    }
}
