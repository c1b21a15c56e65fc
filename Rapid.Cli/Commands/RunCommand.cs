using System.CommandLine;
using Rapid.Cli.Output;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid run</c>: the nightly workflow for a window, on whatever the ops database holds.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var start = new Option<string?>("--start") { Description = "Start of the observation window, UTC, \"yyyy-MM-dd HH:mm:ss\" (default: last night)" };
        var end = new Option<string?>("--end") { Description = "End of the observation window (exclusive), UTC" };
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
            var request = new WindowRequest(parse.GetValue(start), parse.GetValue(end), parse.GetValue(procDate));
            var resolved = new ResolveWindow().Resolve(request); // validates before anything starts
            await using var workflow = await options.OpenAsync(parse, parse.GetValue(force), ct);
            var console = ConsoleOutput.Create();
            var report = await ProgressBars.ShowAsync(console, observer => workflow.Value.Create().RunAsync(request, observer, ct));
            if (report.PlannedJobs == 0)
            {
                Console.WriteLine($"Nothing to do: no L2 images to process in the window {resolved.Window} on {resolved.ProcDate}.");
                return 0;
            }
            NightSummaryPrinter.Print(console, workflow.Value.View(report));
            return 0;
        }));
        return command;
    }
}
