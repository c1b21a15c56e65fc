using System.CommandLine;
using Rapid.Cli.Embedded;
using Rapid.Cli.Output;
using Rapid.Core.Jobs;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid status --procdate D</c>: what ran on a processing date.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var procDate = new Option<string>("--procdate") { Description = "Processing date yyyyMMdd", Required = true };
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("status", "Print what ran on a processing date: jobs by pipeline, status and exit code; failures and their reasons")
        {
            procDate, db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var date = ProcessingDate.Parse(parse.GetValue(procDate)!);
            var rapidHome = new RapidHome(parse.GetValue(home)!, create: false);
            await using var dataSource = await rapidHome.OpenDatabaseAsync(parse.GetValue(db), ct: ct);
            var summary = await new SummarizeNight(dataSource).SummarizeAsync(date, requireJobs: true, ct);
            NightSummaryPrinter.Print(summary);
            return 0;
        }));
        return command;
    }
}
