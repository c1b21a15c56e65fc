using System.CommandLine;
using Rapid.Cli.Bench;
using Rapid.Cli.Embedded;
using Rapid.Cli.Output;
using Spectre.Console;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid bench report --images N</c>: the night report of a synthetic night at survey scale.</summary>
internal static class ReportBenchCommand
{
    public static Command Create()
    {
        var images = new Option<int>("--images") { Description = "Science images of the synthetic night", DefaultValueFactory = _ => 14_000 };
        var output = new Option<string>("--out", "-o") { Description = "Where to write the page", DefaultValueFactory = _ => "rapid_night_report_bench.html" };
        var keep = new Option<bool>("--keep") { Description = "Keep the scratch database (its name is printed)" };
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("report", "Time the night report of a synthetic night of N images (rows written straight into a scratch database, dropped afterwards): " +
                                            "reading, rendering, the page's size, and drawing it in headless Chromium")
        {
            images, output, keep, db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var rapidHome = new RapidHome(parse.GetValue(home)!);
            var cs = await rapidHome.ResolveConnectionStringAsync(parse.GetValue(db), line => Console.Error.WriteLine($"rapid: {line}"), ct);
            var r = await ReportBenchmark.RunAsync(cs, rapidHome.OpenStore(), rapidHome.StoreRoot, parse.GetValue(images), parse.GetValue(output)!,
                line => Console.Error.WriteLine($"rapid: {line}"), parse.GetValue(keep), ct);
            var console = ConsoleOutput.Create();
            var table = new Table().Title($"Night report of a synthetic night: {r.Images:N0} images, {r.Jobs:N0} jobs ({Markup.Escape(r.Database)})")
                .AddColumns("what", "figure");
            table.AddRow("set-up (rows written)", $"{r.Setup.TotalSeconds:0.00} s");
            table.AddRow("read the night (ops database, logs)", $"{r.Load.TotalSeconds:0.00} s");
            table.AddRow("render (plots, HTML)", $"{r.Render.TotalSeconds:0.00} s");
            table.AddRow("page size", $"{r.Bytes / 1e6:0.00} MB");
            table.AddRow("headless Chromium, until the tables are drawn", r.Browser is { } b ? $"{b.TotalSeconds:0.00} s (Chromium's start on an empty page subtracted)" : "Chromium not installed");
            table.AddRow("verdict", Markup.Escape($"{r.Verdict.Word}: {r.Verdict.Headline}"));
            console.Write(table);
            console.MarkupLine($"Page: [bold]{Markup.Escape(r.Path)}[/] (load average {Markup.Escape(File.ReadAllText("/proc/loadavg").Trim())})");
            return 0;
        }));
        return command;
    }
}
