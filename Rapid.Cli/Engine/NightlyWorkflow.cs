using System.Diagnostics;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;
using Rapid.Functions.Record;
using Rapid.Functions.Report;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Engine;

/// <summary>What a night's run did, stage by stage, and the night's summary from the ops database.</summary>
/// <param name="PlannedJobs">Jobs planned by this run (run or closed at planning); 0 means there was nothing to do.</param>
public sealed record NightReport(ResolvedWindow Window, IReadOnlyList<StageReport> Stages, NightSummary Summary, int PlannedJobs, TimeSpan Elapsed)
{
    /// <summary>The night report the Summarize stage wrote (null when it could not: see <see cref="ReportError"/>).</summary>
    public PublishedReport? Published { get; init; }
    public string? ReportError { get; init; }
}

public sealed record StageReport(WorkflowStage Stage, TimeSpan Elapsed, string Outcome);

/// <summary>
/// The nightly workflow in embedded mode: the same steps, in the same order, as the AWS state machine. Plan steps write job lists; the local executor runs them as Batch would;
/// registration always follows a run, whatever the children did, so a failed child is closed out. The run is recorded
/// (<see cref="RunRecorder"/>: its row under <see cref="Tag"/>, the executor's view of every job) and failed jobs are
/// resubmitted by <see cref="Resubmission"/> after each registration, as the state machine's retry states do.
/// </summary>
public sealed class NightlyWorkflow(
    NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, LocalBatchExecutor executor, PlanningOptions planning)
{
    /// <summary>The processing tag the run is recorded under (DES's proctag); null: none.</summary>
    public string? Tag { get; init; }

    /// <summary>Which failed jobs run again within the run, how many attempts each gets, after what wait (none by default).</summary>
    public ResubmissionPolicy Resubmission { get; init; } = ResubmissionPolicy.None;

    public async Task<NightReport> RunAsync(WindowRequest request, IWorkflowObserver observer, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        var stages = new List<StageReport>();
        var window = await Stage(stages, observer, WorkflowStage.ResolveWindow, 1,
            () => Task.FromResult(new ResolveWindow().Resolve(request)),
            w => $"{w.Window}, procdate {w.ProcDate}");

        var run = await RunRecorder.BeginAsync(dataSource, window, Tag, planning.Force, Resubmission, ct);
        var options = planning with { RunId = run.RunId };
        var (status, error) = (RunStatuses.Failed, (string?)null);
        try
        {
            var planned = 0;
            planned += await RunPipeline(stages, observer, WorkflowStage.PlanReferences, run, options,
                () => new PlanReferenceImages(dataSource, store, keys, options).PlanAsync(window.Window, window.ProcDate, ct), ct);
            planned += await RunPipeline(stages, observer, WorkflowStage.PlanScience, run, options,
                () => new PlanScienceJobs(dataSource, store, keys, options).PlanAsync(window.Window, window.ProcDate, ct), ct);
            planned += await RunPipeline(stages, observer, WorkflowStage.PlanPostProcessing, run, options,
                () => new PlanPostProcessing(dataSource, store, keys, options).PlanAsync(window.ProcDate, ct), ct);
            // After post-processing: the night's recovery job reads the science jobs' tables under their stamped names.
            planned += await RunPipeline(stages, observer, WorkflowStage.PlanNightRecovery, run, options,
                () => new PlanNightRecovery(dataSource, store, keys, options).PlanAsync(window.ProcDate, ct), ct);

            // Summarize: the night's summary and its report, beside the night's products (as the Summarize λ does).
            var night = await Stage(stages, observer, WorkflowStage.Summarize, 1,
                () => new SummarizeStep(dataSource, store, keys, new NightReportOptions()).RunAsync(window.ProcDate, ct),
                n => n.Report is { } r ? $"{r.Verdict.Word}: {r.Verdict.Headline}" : n.ReportError ?? "");
            status = RunStatuses.Succeeded;
            return new NightReport(window, stages, night.Summary, planned, clock.Elapsed) { Published = night.Report, ReportError = night.ReportError };
        }
        catch (Exception e)
        {
            (status, error) = (e is OperationCanceledException ? RunStatuses.Interrupted : RunStatuses.Failed, e.Message);
            throw;
        }
        finally
        {
            try
            {
                await run.EndAsync(status, error);
            }
            catch (Exception) when (status != RunStatuses.Succeeded)
            {
                // The run is already failing (often because the database went away): that failure is the one to report.
            }
        }
    }

    /// <summary>
    /// Plan → run the array → register: one pipeline's three states; then, while the resubmission policy picks failed jobs
    /// of the stage, a back-off, their new attempts run and registered. Returns the jobs planned.
    /// </summary>
    private async Task<int> RunPipeline(List<StageReport> stages, IWorkflowObserver observer, WorkflowStage planStage, RunRecorder run,
        PlanningOptions options, Func<Task<PlanResult>> plan, CancellationToken ct)
    {
        var planned = await Stage(stages, observer, planStage, 1, plan, p => p.ArraySize == 0 && p.ClosedAtPlanning == 0
            ? "nothing to do"
            : $"{p.ArraySize} jobs" + (p.ClosedAtPlanning > 0 ? $", {p.ClosedAtPlanning} closed at planning" : ""));
        await RunAndRegister(stages, observer, planStage + 1, run, planned, "", ct);
        if (planned.JobList is not null)
        {
            var resubmission = new PlanResubmission(dataSource, store, keys, options, Resubmission);
            for (var round = 1; ; round++)
            {
                var again = await resubmission.PlanAsync(planned, round, ct);
                if (again.Plan.ArraySize == 0) break;
                await Task.Delay(TimeSpan.FromSeconds(again.WaitSeconds), ct);
                await RunAndRegister(stages, observer, planStage + 1, run, again.Plan,
                    $"resubmission {round} of {again.Plan.ArraySize} after {again.WaitSeconds} s: ", ct);
            }
        }
        return planned.ArraySize + planned.ClosedAtPlanning;
    }

    /// <summary>Runs a job list's array (recording what the executor sees) and registers it, whatever the children did.</summary>
    private async Task RunAndRegister(List<StageReport> stages, IWorkflowObserver observer, WorkflowStage runStage, RunRecorder run,
        PlanResult planned, string label, CancellationToken ct)
    {
        var outcomes = await Stage(stages, observer, runStage, planned.ArraySize, async () =>
            {
                await using var states = await run.WatchAsync(executor, store, planned,
                    new Progress<ChildOutcome>(o => observer.WorkItemDone(runStage, o)), ct);
                return await executor.RunAsync(planned, states, ct);
            },
            o => label + (o.Count == 0 ? "nothing to run" : Describe(o)));
        await Stage(stages, observer, runStage + 1, 1, async () =>
            {
                if (planned.JobList is null) return new RegistrationReport();
                var reasons = outcomes.Where(o => o.Reason is not null).ToDictionary(o => o.Jid, o => o.Reason!);
                return await new RegisterCompletedJobs(dataSource, store, keys).RegisterJobListAsync(planned.JobList, reasons, ct);
            },
            r => label + $"{r.Registered} registered, {r.Lost} lost" + (r.Unchanged > 0 ? $", {r.Unchanged} already registered" : "")
                 + (r.Failures.Count > 0 ? $", {r.Failures.Count} failed to register" : ""));
    }

    private static string Describe(IReadOnlyList<ChildOutcome> outcomes) =>
        string.Join(", ", outcomes.GroupBy(o => o.ExitCode).OrderBy(g => g.Key).Select(g => $"{g.Count()} exit {g.Key}"));

    private static async Task<T> Stage<T>(List<StageReport> stages, IWorkflowObserver observer, WorkflowStage stage, int workItems,
        Func<Task<T>> action, Func<T, string> outcome)
    {
        observer.StageStarted(stage, workItems);
        var clock = Stopwatch.StartNew();
        var result = await action();
        var report = new StageReport(stage, clock.Elapsed, outcome(result));
        stages.Add(report);
        observer.StageFinished(stage, report.Elapsed, report.Outcome);
        return result;
    }
}
