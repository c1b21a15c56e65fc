using System.CommandLine;
using Rapid.Cli.Engine;
using Rapid.Cli.Output;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Commands;

/// <summary>
/// <c>rapid run</c>: the nightly workflow on whatever the ops database holds, for an explicit window or, without
/// one, the scheduled window (from where the last scheduled run ended until now, plus late arrivals). Exits
/// <see cref="CommandErrors.JobsFailed"/> when jobs of the run ended in error, <see cref="CommandErrors.RunInProgress"/>
/// when another run holds the processing date, 130/143 when a signal stopped it (jobs closed with the reason).
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var start = new Option<string?>("--start") { Description = "Start of the observation window, UTC, \"yyyy-MM-dd HH:mm:ss\" (default: the scheduled window, from where the last scheduled run ended)" };
        var end = new Option<string?>("--end") { Description = "End of the observation window (exclusive), UTC (default: now)" };
        var procDate = CommonOptions.ProcDate();
        var force = new Option<bool>("--force") { Description = "Re-run jobs that already succeeded on this processing date (no duplicates: rows and keys are reused)" };
        var options = new WorkflowOptions();
        var command = new Command("run", "Run the nightly workflow (references, science, post-processing) for an observation window")
        {
            start, end, procDate, force,
        };
        options.AddTo(command);
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(options.Verbose), async () =>
        {
            var request = new WindowRequest(parse.GetValue(start), parse.GetValue(end), parse.GetValue(procDate)) { Fields = WindowFields.CommandLine };
            new ResolveWindow().Resolve(request); // validates before anything starts
            await using var workflow = await options.OpenAsync(parse, parse.GetValue(force), ct, createHome: false);
            var console = ConsoleOutput.Create();
            var report = await ProgressBars.ShowAsync(console, observer => workflow.Value.Create().RunAsync(request, observer, ct));
            if (report.PlannedJobs == 0)
            {
                Console.WriteLine(await NothingToDoAsync(workflow.Value.Database, report, ct));
                return 0;
            }
            NightSummaryPrinter.Print(console, workflow.Value.View(report));
            return JobsFailed(report);
        }));
        return command;
    }

    /// <summary><see cref="CommandErrors.JobsFailed"/> (with a closing line) when jobs of the run ended in error, else 0.</summary>
    internal static int JobsFailed(NightReport report)
    {
        if (report.FailedJobs == 0) return 0;
        Console.Error.WriteLine($"rapid: {report.FailedJobs} job{(report.FailedJobs == 1 ? "" : "s")} of this run ended in error (see the failures above; " +
                                $"rapid status --procdate {report.Window.ProcDate} lists them again)");
        return CommandErrors.JobsFailed;
    }

    /// <summary>Why there was nothing to do: an empty window, or images that are already processed (and how to force them).</summary>
    private static async Task<string> NothingToDoAsync(Npgsql.NpgsqlDataSource db, NightReport report, CancellationToken ct)
    {
        var w = report.Window;
        var count = await WindowImages.CountAsync(db, w.Window, w.ProcDate, ct);
        if (w.Scheduled)
            return count.Observed == 0
                ? $"Nothing to do: no L2 images observed in the scheduled window {w.Window} and none registered late (processing date {w.ProcDate})."
                : $"Nothing to do: the {count.Observed} L2 images observed in the scheduled window {w.Window} were already processed by earlier runs; " +
                  $"to process them again give the window: rapid run --start \"{Core.Jobs.ObservationWindow.Format(w.Window.Start)}\" --end \"{Core.Jobs.ObservationWindow.Format(w.Window.End)}\" --force";
        if (count.Observed == 0)
            return $"Nothing to do: no L2 images observed in the window {w.Window} (processing date {w.ProcDate}).";
        return $"Nothing to do: the {count.Observed} L2 images observed in the window {w.Window} already have products on processing date {w.ProcDate}; " +
               "--force runs them again (same rows and keys), another --procdate makes new versions.";
    }
}
