using System.CommandLine;
using System.Globalization;
using Rapid.Cli.Bench;
using Rapid.Cli.Embedded;
using Rapid.Cli.Output;
using Spectre.Console;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid bench ops --jobs N</c>: planning and registration at the scale of a night.</summary>
internal static class OpsBenchCommand
{
    public static Command Create()
    {
        var jobs = new Option<int>("--jobs") { Description = "L2 images (science jobs) to plan and register", DefaultValueFactory = _ => 2069 };
        var ingest = new Option<int>("--ingest") { Description = "Also time registering this many more L2 files in one transaction (survey-scale ingest)" };
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("ops", "Time planning N science jobs and registering N manifests (in a scratch database, dropped afterwards)")
        {
            jobs, ingest, db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var rapidHome = new RapidHome(parse.GetValue(home)!);
            var cs = await rapidHome.ResolveConnectionStringAsync(parse.GetValue(db), line => Console.Error.WriteLine($"rapid: {line}"), ct);
            var report = await OpsBenchmark.RunAsync(cs, rapidHome.OpenStore(), parse.GetValue(jobs), line => Console.Error.WriteLine($"rapid: {line}"),
                extraIngest: parse.GetValue(ingest), ct: ct);
            var table = new Table().Title($"Ops benchmark: {report.Jobs} jobs on {Markup.Escape(report.Database)}")
                .AddColumns("step", "seconds", "count", "CPU s: rapid + server", "target; the original system");
            table.AddRow("set-up (migrations, L2 rows, references planned and registered)", $"{report.Setup.TotalSeconds:0.000}", report.Jobs.ToString(), "", "");
            foreach (var step in report.Steps)
                table.AddRow(Markup.Escape(step.Name), $"{step.Elapsed.TotalSeconds:0.000}", step.Count.ToString(),
                    step.Cpu is { } c ? FormattableString.Invariant($"{c.Client:0.00} + {(c.Server is { } s ? s.ToString("0.00", CultureInfo.InvariantCulture) : "?")}") : "",
                    Markup.Escape(step.Yardstick ?? ""));
            table.Caption(FormattableString.Invariant(
                $"science manifest {report.ManifestBytes / 1024.0:0.0} KB; load average (1 min) {report.LoadAverage.Before:0.00} before, {report.LoadAverage.After:0.00} after, on {Environment.ProcessorCount} cores"));
            ConsoleOutput.Create().Write(table);
            return 0;
        }));
        return command;
    }
}
