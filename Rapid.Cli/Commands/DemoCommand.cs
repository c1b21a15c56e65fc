using System.CommandLine;
using Rapid.Cli.Ingest;
using Rapid.Cli.Output;
using Rapid.Core.Jobs;
using Rapid.Functions.Steps;
using Rapid.Pipeline.Simulation;
using Spectre.Console;

namespace Rapid.Cli.Commands;

/// <summary>
/// <c>rapid demo</c>: simulate a small survey, register it, and run the nightly workflow for its
/// last night on the embedded default (private PostgreSQL under .rapid/, directory object store).
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var options = new WorkflowOptions();
        // The demo's grid follows the image size unless given.
        options.ReferenceGrid.DefaultValueFactory = null;
        options.ReferenceGrid.Description += " [default: the smallest grid that holds every simulated image, rolled and dithered]";
        var survey = new SurveyOptions(defaultSize: 1024);
        var procDate = CommonOptions.ProcDate();
        var command = new Command("demo", "Simulate a small survey and run the nightly workflow on its last night (embedded mode)") { procDate };
        options.AddTo(command);
        survey.AddTo(command);
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(options.Verbose), async () =>
        {
            var spec = survey.Read(parse);
            var console = ConsoleOutput.Create();
            // The demo always shows the whole night: re-running it reuses job rows and keys (no duplicates).
            await using var workflow = await options.OpenAsync(parse, force: true, ct, referenceGridWhenUnset: SurveyFootprint.TileGridPixels(spec));
            var store = workflow.Value.Home.OpenStore();
            var dir = store.PathOf(new Core.Storage.ObjectRef(workflow.Value.Buckets.Data, $"demo/seed{spec.Seed}_{spec.Size}px/x"));
            var simulated = await console.Status().StartAsync(
                $"Simulating {spec.FieldCentres.Count} fields x {spec.Filters.Count} filters x {spec.Epochs} epochs of {spec.Size}x{spec.Size} px...",
                _ => Task.Run(() => SurveySimulator.Generate(spec, Path.GetDirectoryName(dir)!), ct));
            var registered = await SimulatedSurveyIngest.RegisterAsync(simulated, store, workflow.Value.Buckets, workflow.Value.Database, ct);
            Console.WriteLine($"Survey: {simulated.Images.Count} L2 images in {simulated.Directory} ({registered.Count(r => r.Inserted)} newly registered)");

            var lastNight = simulated.Images.Max(i => i.DateObsUtc).Date;
            var request = new WindowRequest(ObservationWindow.Format(lastNight), ObservationWindow.Format(lastNight.AddDays(1)), parse.GetValue(procDate)) { Fields = WindowFields.CommandLine };
            console.MarkupLine($"Running the nightly workflow for [bold]{request.StartDateTime} .. {request.EndDateTime}[/]");
            var report = await ProgressBars.ShowAsync(console, observer => workflow.Value.Create().RunAsync(request, observer, ct));
            NightSummaryPrinter.Print(console, workflow.Value.View(report));
            console.MarkupLine($"Done in {report.Elapsed.TotalSeconds:0.0} s. Again: [bold]./rapid status[/] (this night: --procdate {report.Window.ProcDate}), a job's log: [bold]./rapid logs JID[/].");
            return RunCommand.JobsFailed(report);
        }));
        return command;
    }
}
