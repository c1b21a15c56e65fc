using System.Diagnostics;
using Dapper;
using Rapid.Cli.Embedded;
using Rapid.Core.Jobs;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Engine;

/// <summary>What processing one landed image gave: its science job (null when none was planned) and its difference image.</summary>
/// <param name="DiffImage">The registered best difference image (after post-processing, its stamped name); null when none.</param>
/// <param name="Run">The run that processed it; null when the image had been processed before (<see cref="AlreadyProcessed"/>).</param>
public sealed record PromptOutcome(long Rid, ProcessingDate ProcDate, long? Jid, int? ExitCode, string? Reason, string? DiffImage, TimeSpan Elapsed,
    NightReport? Run)
{
    /// <summary>The image already had a registered difference image: nothing ran, the outcome is that job's.</summary>
    public bool AlreadyProcessed => Run is null;
}

/// <summary>
/// Processes one registered L2 image as soon as it lands (<c>rapid watch</c>, a <c>science</c> submission, <c>rapid bench
/// prompt</c>): the nightly workflow's own steps (<see cref="NightlyWorkflow"/> with <see cref="NightStages.Prompt"/>) over
/// an explicit window of the image's exposure (its DATE-OBS to the second), restricted to that image
/// (<see cref="PlanningOptions.Submission"/>: other images of the same exposure, other SCAs, are left to their own landing or
/// to the night), so a reference is made first when its tile has none and enough earlier images exist, then its science job,
/// its registration and the post-processing of what the run made, under the processing date's run lease. Idempotent per image
/// and version (each version is its own rid): an image that already has a registered difference image is not run again, and
/// its science job takes it off <c>l2pending</c>, so the scheduled night does not process it again.
/// </summary>
public sealed class PromptProcessing(EmbeddedWorkflow workflow)
{
    public Task<PromptOutcome> ProcessAsync(long rid, string? procDate, IWorkflowObserver? observer = null, CancellationToken ct = default) =>
        ProcessAsync(JobTypes.Science.Validate(new Dictionary<string, string?>
        {
            [JobTypes.Rid.Name] = rid.ToString(System.Globalization.CultureInfo.InvariantCulture), [JobTypes.ProcDateOptional.Name] = procDate,
        }), observer, ct);

    /// <summary>Processes a <c>science</c> submission's image (a <see cref="JobInputException"/> when it is not registered).</summary>
    public async Task<PromptOutcome> ProcessAsync(JobSubmission submission, IWorkflowObserver? observer = null, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        SubmittedJob job;
        await using (var conn = await workflow.Database.OpenConnectionAsync(ct))
            job = await SubmittedJob.ResolveAsync(conn, submission, ct);
        if (!job.IsScience) throw new ArgumentException($"prompt processing takes a science job, not a {submission.Type.Name} job", nameof(submission));
        var rid = job.Rid!.Value;
        Rapid.Functions.Api.Submissions.ScienceJobMade? done;
        await using (var conn = await workflow.Database.OpenConnectionAsync(ct))
            done = await Rapid.Functions.Api.Submissions.ProcessedBeforeAsync(conn, rid, ct);
        if (done is not null)
            return new PromptOutcome(rid, new ProcessingDate(done.ProcDate), done.Jid, done.ExitCode, done.Reason, done.DiffImage, clock.Elapsed, null);

        // The window the state machines' ResolveWindow gives the same job: the exposure's second.
        var request = job.RunWindow(ProcessingDate.At(workflow.Clock?.GetUtcNow() ?? DateTimeOffset.UtcNow));
        var run = await (workflow with { Planning = workflow.Planning with { Submission = job } }).Create(stages: NightStages.Prompt)
            .RunAsync(request, observer ?? SilentObserver.Instance, ct);
        var date = run.Window.ProcDate;
        await using (var conn = await workflow.Database.OpenConnectionAsync(ct))
        {
            var science = await conn.QuerySingleOrDefaultAsync<(long Jid, int? ExitCode, string? Reason, string? DiffImage)?>(new CommandDefinition("""
                select j.jid, j.exitcode, j.reason,
                       (select d.filename from diffimages d where d.jid = j.jid and d.status > 0 and d.vbest > 0) as diffimage
                from jobs j where j.ppid = 15 and j.procdate = @procdate and j.rid = @rid
                """, new { procdate = date.Date, rid }, cancellationToken: ct));
            return new PromptOutcome(rid, date, science?.Jid, science?.ExitCode, science?.Reason, science?.DiffImage, clock.Elapsed, run);
        }
    }
}
