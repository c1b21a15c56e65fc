using System.CommandLine;
using Rapid.Cli.Embedded;
using Rapid.Cli.Output;
using Rapid.Core.Storage;
using Rapid.Functions.Report;
using Rapid.Functions.Report.Data;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid status [--procdate D] [--bins]</c>: what ran on a processing date (the latest by default).</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var procDate = CommonOptions.ProcDateOrLatest();
        var bins = new Option<bool>("--bins") { Description = "Also print completeness and flux bias per magnitude bin" };
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("status", "Print what ran on a processing date: the night's verdict, jobs by pipeline and outcome, products, " +
                                            "completeness per filter, failures and where the night report is")
        {
            procDate, bins, db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            // A malformed date is named before anything is opened (the home, its database).
            if (parse.GetValue(procDate) is { } given) Core.Jobs.ProcessingDate.Parse(given);
            var rapidHome = new RapidHome(parse.GetValue(home)!, create: false);
            await using var dataSource = await rapidHome.OpenDatabaseAsync(parse.GetValue(db), ct: ct);
            var date = await CommonOptions.ResolveProcDateAsync(parse.GetValue(procDate), dataSource, ct);
            var summary = await new SummarizeNight(dataSource).SummarizeAsync(date, requireJobs: true, ct);
            var store = rapidHome.OpenStore();
            var keys = new ObjectKeys(Buckets.Default);
            var verdict = await new NightReportData(dataSource, store, keys, NightReportOptions.FromEnvironment()).LoadVerdictAsync(date, summary, ct);
            var report = store.PathOf(keys.NightReport(date));
            var view = new NightView(summary, verdict, File.Exists(report) ? report : null,
                File.Exists(report) ? null : $"none written for {date} yet (rapid report --procdate {date} writes it)", null);
            NightSummaryPrinter.Print(ConsoleOutput.Create(), view, parse.GetValue(bins));
            return 0;
        }));
        return command;
    }
}
