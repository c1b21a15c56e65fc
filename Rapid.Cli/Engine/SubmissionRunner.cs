using Dapper;
using Rapid.Cli.Diff;
using Rapid.Cli.Embedded;
using Rapid.Core.Jobs;
using Rapid.Functions.Api;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Engine;

/// <summary>
/// Runs submitted jobs one at a time through the engine's own paths: <c>science</c> as prompt processing
/// (<see cref="PromptProcessing"/>), <c>reference</c> as the nightly workflow's reference and post-processing stages planned for
/// its (field, filter) only (<see cref="PlanningOptions.Submission"/>), <c>postprocessing</c> and <c>nightrecovery</c> as those
/// stages of the nightly workflow for their processing date, <c>diff</c> as <c>rapid diff</c> runs it (<see cref="DiffRunner"/>, products under the home's
/// work area). A submission whose run throws is failed with the error as its reason; the server's cancellation leaves it
/// running for <see cref="Submissions.CloseInterruptedAsync"/>. <see cref="Cancel"/> stops the running submission's run
/// (the job API's <c>DELETE</c>, which has already failed the submission): its run is interrupted as a signal interrupts
/// <c>rapid run</c> (children killed, jobs closed with the reason, the run ended, the lease released).
/// </summary>
public sealed class SubmissionRunner(EmbeddedWorkflow workflow, Submissions submissions)
{
    private readonly Lock _gate = new();
    private (long Subid, CancellationTokenSource Stop)? _running;

    /// <summary>Stops submission <paramref name="subid"/>'s run if it is the one running; false otherwise.</summary>
    public bool Cancel(long subid)
    {
        lock (_gate)
        {
            if (_running is not { } running || running.Subid != subid) return false;
            running.Stop.Cancel();
            return true;
        }
    }

    /// <summary>Runs the oldest queued submission (or submission <paramref name="id"/>); false when none waits.</summary>
    public async Task<bool> RunNextAsync(CancellationToken ct, long? id = null)
    {
        if (await submissions.TakeNextAsync(id, ct) is not { } next) return false;
        SubmissionResult result;
        bool succeeded;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        lock (_gate) _running = (next.Subid, stop);
        try
        {
            var submission = JobTypes.Named(next.JobType).Validate(next.InputValues.ToDictionary(kv => kv.Key, kv => (string?)kv.Value));
            // The submission's tag is the run's processing tag (runs.tag).
            (succeeded, result) = await RunAsync(next.Subid, submission, workflow with { Tag = next.Tag ?? workflow.Tag },
                new RunFollower(submissions, next.Subid), stop.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Cancelled through the API, which failed the submission with its reason before stopping the run.
            return true;
        }
        catch (Commands.PipelineExitException e)
        {
            (succeeded, result) = (false, new SubmissionResult(null, e.ExitCode, e.Message.ReplaceLineEndings(" ")));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            (succeeded, result) = (false, new SubmissionResult(null, null, $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}"));
        }
        finally
        {
            lock (_gate) _running = null;
        }
        await submissions.FinishAsync(next.Subid, succeeded, result, CancellationToken.None);
        return true;
    }

    /// <summary>Ties the submission to its run as soon as the run begins (<see cref="Submissions.RunBegunAsync"/>).</summary>
    private sealed class RunFollower(Submissions submissions, long subid) : IWorkflowObserver
    {
        public void StageStarted(WorkflowStage stage, int workItems) { }
        public void WorkItemDone(WorkflowStage stage, ChildOutcome? outcome) { }
        public void StageFinished(WorkflowStage stage, TimeSpan elapsed, string outcome) { }
        public Task RunBegunAsync(long runId, CancellationToken ct) => submissions.RunBegunAsync(subid, runId, ct);
    }

    private static async Task<(bool, SubmissionResult)> RunAsync(long subid, JobSubmission submission, EmbeddedWorkflow workflow,
        IWorkflowObserver observer, CancellationToken ct)
    {
        if (submission.Type == JobTypes.Science)
        {
            var outcome = await new PromptProcessing(workflow).ProcessAsync(submission, observer, ct);
            // The rule AWS's job API applies to the same submission (Submissions.ScienceVerdict).
            var (succeeded, reason) = Submissions.ScienceVerdict(outcome.Rid, outcome.Jid is not { } jid ? null
                : new Submissions.ScienceJobMade(jid, outcome.ProcDate.Date, outcome.ExitCode, outcome.Reason, outcome.DiffImage, outcome.AlreadyProcessed));
            return (succeeded, new SubmissionResult(outcome.Jid, outcome.ExitCode, reason, outcome.ProcDate, RunId: outcome.Run?.RunId));
        }
        var date = submission.ProcDate() ?? ProcessingDate.At(workflow.Clock?.GetUtcNow() ?? DateTimeOffset.UtcNow);
        SubmittedJob job;
        await using (var conn = await workflow.Database.OpenConnectionAsync(ct))
            job = await SubmittedJob.ResolveAsync(conn, submission, ct);
        // These runs plan by processing date (or a submitted (field, filter)): the window, the date's first second (as the state
        // machines' ResolveWindow gives it for the same job), selects no science work; a reference co-adds the images observed before it.
        var request = job.RunWindow(date);
        if (submission.Type == JobTypes.Reference)
        {
            var run = await (workflow with { Planning = workflow.Planning with { Submission = job } })
                .Create(stages: NightStages.References | NightStages.PostProcessing).RunAsync(request, observer, ct);
            await using var db = await workflow.Database.OpenConnectionAsync(ct);
            var made = await db.QuerySingleOrDefaultAsync<(long Jid, int? ExitCode, string? Reason, bool Registered)?>(new CommandDefinition("""
                select j.jid, j.exitcode, j.reason, exists (select 1 from refimages r where r.jid = j.jid and r.status > 0) as registered
                from jobs j where j.ppid = 12 and j.procdate = @procdate and j.field = @field and j.fid = @fid
                  and exists (select 1 from jobattempts a where a.jid = j.jid and a.runid = @runid)
                """, new { procdate = date.Date, field = job.Pair!.Value.Field, fid = job.Pair.Value.Fid, runid = run.RunId }, cancellationToken: ct));
            if (made is not { } reference)
                return (false, new SubmissionResult(null, null,
                    $"no reference was planned for field {job.Pair.Value.Field} in {submission.Text(JobTypes.Filter)}: fewer than " +
                    $"{workflow.Planning.Pipeline.MinReferenceInputs} best L2 images observed before {date} within {workflow.Planning.ReferenceRadiusDeg}° of the tile centre",
                    date, RunId: run.RunId));
            return (reference.Registered && reference.ExitCode < ExitCodes.Error,
                new SubmissionResult(reference.Jid, reference.ExitCode, reference.Reason, date, RunId: run.RunId));
        }
        if (submission.Type == JobTypes.PostProcessing || submission.Type == JobTypes.NightRecovery)
        {
            var stages = submission.Type == JobTypes.PostProcessing ? NightStages.PostProcessing : NightStages.PostProcessing | NightStages.NightRecovery | NightStages.Report;
            var run = await workflow.Create(stages: stages).RunAsync(request, observer, ct);
            // A nightrecovery submission is its night's recovery job (when its run made one): its id and exit code.
            (long Jid, int? ExitCode)? recovery = null;
            if (submission.Type == JobTypes.NightRecovery)
            {
                await using var db = await workflow.Database.OpenConnectionAsync(ct);
                recovery = await db.QuerySingleOrDefaultAsync<(long, int?)?>(new CommandDefinition("""
                    select j.jid, j.exitcode from jobs j where j.ppid = 18 and j.procdate = @procdate
                      and exists (select 1 from jobattempts a where a.jid = j.jid and a.runid = @runid)
                    """, new { procdate = date.Date, runid = run.RunId }, cancellationToken: ct));
            }
            return (run.FailedJobs == 0, new SubmissionResult(recovery?.Jid, recovery?.ExitCode,
                $"{run.PlannedJobs} job{(run.PlannedJobs == 1 ? "" : "s")} planned, {run.FailedJobs} ended in error", date, RunId: run.RunId));
        }
        if (submission.Type == JobTypes.Diff)
        {
            var outDir = Path.Combine(workflow.Home.WorkRoot, "submissions", subid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var diff = new DiffRequest
            {
                Science = submission.Text(JobTypes.DiffScience)!, ReferenceImage = submission.Text(JobTypes.DiffReferenceImage),
                ReferenceCoverage = submission.Text(JobTypes.DiffReferenceCoverage), ReferenceUncertainty = submission.Text(JobTypes.DiffReferenceUncertainty),
                OutDirectory = outDir, Overwrite = true,
            };
            diff.Validate();
            var outcome = await new DiffRunner().RunAsync(diff, ct);
            return (outcome.Manifest.ExitCode < ExitCodes.Error, new SubmissionResult(null, outcome.Manifest.ExitCode, outcome.Manifest.Reason, OutDirectory: outcome.OutDirectory));
        }
        throw new InvalidOperationException($"{submission.Type.Name} jobs are not run by this engine");
    }
}
