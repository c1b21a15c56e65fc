using System.CommandLine;
using Rapid.Cli.Bench;
using Rapid.Cli.Embedded;
using Spectre.Console;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid bench ops --jobs N</c>: planning and registration at the scale of a night.</summary>
internal static class OpsBenchCommand
{
    public static Command Create()
    {
        var jobs = new Option<int>("--jobs") { Description = "L2 images (science jobs) to plan and register", DefaultValueFactory = _ => 2069 };
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("ops", "Time planning N science jobs and registering N manifests (in a scratch database, dropped afterwards)")
        {
            jobs, db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var rapidHome = new RapidHome(parse.GetValue(home)!);
            var cs = await rapidHome.ResolveConnectionStringAsync(parse.GetValue(db), line => Console.Error.WriteLine($"rapid: {line}"), ct);
            var report = await OpsBenchmark.RunAsync(cs, rapidHome.OpenStore(), parse.GetValue(jobs), line => Console.Error.WriteLine($"rapid: {line}"), ct: ct);
            var table = new Table().Title($"Ops benchmark: {report.Jobs} jobs on {Markup.Escape(report.Database)}")
                .AddColumns("step", "seconds", "count", "original system (2069 jobs)");
            table.AddRow("set-up (rows for the L2 images)", $"{report.Setup.TotalSeconds:0.000}", report.Jobs.ToString(), "");
            table.AddRow("plan science jobs (query, job rows, configs)", $"{report.PlanScience.TotalSeconds:0.000}", report.Planned.ToString(), "1183-1344 s");
            table.AddRow("register completed-job manifests", $"{report.Register.TotalSeconds:0.000}", report.Registered.ToString(), "415-462 s");
            table.AddRow("register the same manifests again (no-op)", $"{report.RegisterAgain.TotalSeconds:0.000}", report.Registered.ToString(), "");
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}
