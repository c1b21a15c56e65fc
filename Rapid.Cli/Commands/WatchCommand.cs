using System.CommandLine;
using System.Globalization;
using Rapid.Cli.Engine;
using Rapid.Cli.Ingest;
using Rapid.Core.Storage;
using Rapid.Functions.Ingest;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Cli.Commands;

/// <summary>
/// <c>rapid watch DIR</c>: prompt processing in embedded mode. Files that finish landing in DIR (<see cref="LandedFiles"/>)
/// are ingested (<see cref="L2FileIngest"/>) and each new image is processed at once (<see cref="PromptProcessing"/>:
/// a reference when none exists, its science job, registration, post-processing; an image already processed is not
/// processed again), one line per file, until SIGINT or
/// SIGTERM: then a running job is killed and closed with the reason and rapid exits 130 or 143. A refused file is one
/// line and the watch goes on; a processing date held by another run (a nightly <c>rapid run</c>) is waited for.
/// </summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("directory") { Description = "Directory where L2 FITS files land (watched recursively)" };
        var procDate = CommonOptions.ProcDate();
        var settle = new Option<double>("--settle") { Description = "Seconds a file's size and time must stay unchanged before it is read", DefaultValueFactory = _ => 2.0 };
        var poll = new Option<double>("--poll") { Description = "Seconds between looks at the directory", DefaultValueFactory = _ => 1.0 };
        var options = new WorkflowOptions();
        var command = new Command("watch", "Ingest and process L2 files as they land in a directory (a complete file only), until interrupted (exit 130/143)")
        {
            directory, procDate, settle, poll,
        };
        options.AddTo(command);
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(options.Verbose), async () =>
        {
            var dir = parse.GetValue(directory)!;
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: no such directory");
            if (parse.GetValue(procDate) is { } given) Core.Jobs.ProcessingDate.Parse(given);
            var (settleSeconds, pollSeconds) = (parse.GetValue(settle), parse.GetValue(poll));
            if (!(settleSeconds >= 0) || !double.IsFinite(settleSeconds)) throw new ArgumentException($"--settle {settleSeconds}: must be 0 or more seconds");
            if (!(pollSeconds > 0) || !double.IsFinite(pollSeconds)) throw new ArgumentException($"--poll {pollSeconds}: must be more than 0 seconds");
            await using var workflow = await options.OpenAsync(parse, force: false, ct, createHome: false);
            var ingest = new L2FileIngest(workflow.Value.Home.OpenStore(), Buckets.Default, workflow.Value.Database);
            var prompt = new PromptProcessing(workflow.Value);
            var landed = new LandedFiles(dir, TimeSpan.FromSeconds(settleSeconds));
            Console.WriteLine($"Watching {landed.Directory} (a file is read once unchanged for {settleSeconds} s; SIGINT or SIGTERM stops)");
            while (true)
            {
                foreach (var file in landed.Poll())
                {
                    if (await HandleAsync(file, ingest, prompt, parse.GetValue(procDate), ct)) landed.Handled(file);
                }
                await Task.Delay(TimeSpan.FromSeconds(pollSeconds), ct);
            }
        }));
        return command;
    }

    /// <summary>Ingests and processes one landed file; false when it must be tried again (its processing date is held by another run).</summary>
    private static async Task<bool> HandleAsync(string file, L2FileIngest ingest, PromptProcessing prompt, string? procDate, CancellationToken ct)
    {
        var ingested = await ingest.IngestAsync(file, ct);
        if (ingested.Problem is { } problem)
        {
            Console.Error.WriteLine($"rapid: watch: {problem}");
            return true;
        }
        var image = ingested.Registered!;
        try
        {
            // A file seen before (a watch restarted over the same directory) is not processed again, on any processing date.
            var outcome = await prompt.ProcessAsync(image.Rid, procDate, ct: ct);
            var seconds = outcome.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
            Console.WriteLine(outcome switch
            {
                { AlreadyProcessed: true } => $"{file}: rid {image.Rid}: already registered and processed (job {outcome.Jid}, procdate {outcome.ProcDate})",
                { DiffImage: { } diff } => $"{file}: rid {image.Rid}: difference image {diff} (job {outcome.Jid}, exit {outcome.ExitCode}, procdate {outcome.ProcDate}) in {seconds} s",
                { Jid: { } jid } => $"{file}: rid {image.Rid}: job {jid} ended with exit {outcome.ExitCode}: {outcome.Reason} ({seconds} s)",
                _ => $"{file}: rid {image.Rid}: registered{(image.Inserted ? "" : " before")}; no science job planned (not the best version of its exposure and SCA)",
            });
            return true;
        }
        catch (RunInProgressException e)
        {
            Console.Error.WriteLine($"rapid: watch: {file}: waiting: {e.Message}");
            return false;
        }
    }
}
