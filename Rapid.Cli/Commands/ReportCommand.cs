using System.CommandLine;
using Rapid.Cli.Embedded;
using Rapid.Cli.Output;
using Rapid.Core.Storage;
using Rapid.Functions.Report;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid report [--procdate D] [--out FILE]</c>: the night report of a processing date, as the Summarize step writes it.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var procDate = CommonOptions.ProcDateOrLatest();
        var output = new Option<string?>("--out", "-o")
        {
            Description = "Write the page to this file (default: beside the night's products in the object store, where the Summarize step writes it)",
        };
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("report", "Write the night report of a processing date: one self-contained HTML page (verdict, timeline, failures with their logs, " +
                                           "per-image quality, injection-recovery plots, cutouts, products)")
        {
            procDate, output, db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var rapidHome = new RapidHome(parse.GetValue(home)!);
            await using var dataSource = await rapidHome.OpenDatabaseAsync(parse.GetValue(db), ct: ct);
            var date = await CommonOptions.ResolveProcDateAsync(parse.GetValue(procDate), dataSource, ct);
            var store = rapidHome.OpenStore();
            var reports = new NightReports(dataSource, store, new ObjectKeys(Buckets.Default), NightReportOptions.FromEnvironment());
            var published = parse.GetValue(output) is { } path
                ? await reports.WriteFileAsync(date, path, rapidHome.StoreRoot, ct)
                : await reports.PublishAsync(date, ct);
            var file = ObjectRef.TryParse(published.Location, out var stored) ? store.PathOf(stored!) : published.Location;
            NightSummaryPrinter.PrintReportLine(ConsoleOutput.Create(), published, file);
            return 0;
        }));
        return command;
    }
}
