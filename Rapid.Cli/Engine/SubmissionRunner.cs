using Rapid.Cli.Diff;
using Rapid.Cli.Embedded;
using Rapid.Core.Jobs;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Engine;

/// <summary>
/// Runs submitted jobs one at a time through the engine's own paths: <c>science</c> as prompt processing
/// (<see cref="PromptProcessing"/>), <c>postprocessing</c> and <c>nightrecovery</c> as those stages of the nightly workflow
/// for their processing date, <c>diff</c> as <c>rapid diff</c> runs it (<see cref="DiffRunner"/>, products under the home's
/// work area). A submission whose run throws is failed with the error as its reason; cancellation leaves it running for
/// <see cref="Submissions.CloseInterruptedAsync"/>.
/// </summary>
public sealed class SubmissionRunner(EmbeddedWorkflow workflow, Submissions submissions)
{
    /// <summary>Runs the oldest queued submission (or submission <paramref name="id"/>); false when none waits.</summary>
    public async Task<bool> RunNextAsync(CancellationToken ct, long? id = null)
    {
        if (await submissions.TakeNextAsync(id, ct) is not { } next) return false;
        SubmissionResult result;
        bool succeeded;
        try
        {
            var submission = JobTypes.Named(next.JobType).Validate(next.InputValues.ToDictionary(kv => kv.Key, kv => (string?)kv.Value));
            // The submission's tag is the run's processing tag (runs.tag).
            (succeeded, result) = await RunAsync(next.Subid, submission, workflow with { Tag = next.Tag ?? workflow.Tag }, ct);
        }
        catch (Commands.PipelineExitException e)
        {
            (succeeded, result) = (false, new SubmissionResult(null, e.ExitCode, e.Message.ReplaceLineEndings(" ")));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            (succeeded, result) = (false, new SubmissionResult(null, null, $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}"));
        }
        await submissions.FinishAsync(next.Subid, succeeded, result, CancellationToken.None);
        return true;
    }

    private static async Task<(bool, SubmissionResult)> RunAsync(long subid, JobSubmission submission, EmbeddedWorkflow workflow, CancellationToken ct)
    {
        var procDate = submission.Text("procdate");
        if (submission.Type == JobTypes.Science)
        {
            var outcome = await new PromptProcessing(workflow).ProcessAsync(submission.Id("rid"), procDate, ct: ct);
            var reason = outcome.Jid is null ? $"no science job was planned for rid {outcome.Rid} (already processed on {outcome.ProcDate}, or not its best version)" : outcome.Reason;
            return (outcome.DiffImage is not null, new SubmissionResult(outcome.Jid, outcome.ExitCode, reason, outcome.ProcDate));
        }
        if (submission.Type == JobTypes.PostProcessing || submission.Type == JobTypes.NightRecovery)
        {
            var date = ProcessingDate.Parse(procDate!);
            var stages = submission.Type == JobTypes.PostProcessing ? NightStages.PostProcessing : NightStages.PostProcessing | NightStages.NightRecovery | NightStages.Report;
            // These stages plan by processing date; the window (the date's day) selects no reference or science work.
            var day = date.Date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            var run = await workflow.Create(stages: stages).RunAsync(
                new WindowRequest(ObservationWindow.Format(day), ObservationWindow.Format(day.AddSeconds(1)), date.ToString()), SilentObserver.Instance, ct);
            return (run.FailedJobs == 0, new SubmissionResult(null, null,
                $"{run.PlannedJobs} job{(run.PlannedJobs == 1 ? "" : "s")} planned, {run.FailedJobs} ended in error", date));
        }
        if (submission.Type == JobTypes.Diff)
        {
            var outDir = Path.Combine(workflow.Home.WorkRoot, "submissions", subid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var request = new DiffRequest
            {
                Science = submission.Text("science")!, ReferenceImage = submission.Text("reference-image"),
                ReferenceCoverage = submission.Text("reference-coverage"), ReferenceUncertainty = submission.Text("reference-uncertainty"),
                OutDirectory = outDir, Overwrite = true,
            };
            request.Validate();
            var outcome = await new DiffRunner().RunAsync(request, ct);
            return (outcome.Manifest.ExitCode < ExitCodes.Error, new SubmissionResult(null, outcome.Manifest.ExitCode, outcome.Manifest.Reason, OutDirectory: outcome.OutDirectory));
        }
        throw new InvalidOperationException($"{submission.Type.Name} jobs are not run by this engine");
    }
}
