using System.Diagnostics;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;
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
/// registration always follows a run, whatever the children did, so a failed child is closed out.
/// </summary>
public sealed class NightlyWorkflow(
    NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, LocalBatchExecutor executor, PlanningOptions planning)
{
    public async Task<NightReport> RunAsync(WindowRequest request, IWorkflowObserver observer, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        var stages = new List<StageReport>();
        var window = await Stage(stages, observer, WorkflowStage.ResolveWindow, 1,
            () => Task.FromResult(new ResolveWindow().Resolve(request)),
            w => $"{w.Window}, procdate {w.ProcDate}");

        var planned = 0;
        planned += await RunPipeline(stages, observer, WorkflowStage.PlanReferences,
            () => new PlanReferenceImages(dataSource, store, keys, planning).PlanAsync(window.Window, window.ProcDate, ct), ct);
        planned += await RunPipeline(stages, observer, WorkflowStage.PlanScience,
            () => new PlanScienceJobs(dataSource, store, keys, planning).PlanAsync(window.Window, window.ProcDate, ct), ct);
        planned += await RunPipeline(stages, observer, WorkflowStage.PlanPostProcessing,
            () => new PlanPostProcessing(dataSource, store, keys, planning).PlanAsync(window.ProcDate, ct), ct);
        // After post-processing: the night's recovery job reads the science jobs' tables under their stamped names.
        planned += await RunPipeline(stages, observer, WorkflowStage.PlanNightRecovery,
            () => new PlanNightRecovery(dataSource, store, keys, planning).PlanAsync(window.ProcDate, ct), ct);

        // Summarize: the night's summary and its report, beside the night's products (as the Summarize λ does).
        var night = await Stage(stages, observer, WorkflowStage.Summarize, 1,
            () => new SummarizeStep(dataSource, store, keys, new NightReportOptions()).RunAsync(window.ProcDate, ct),
            n => n.Report is { } r ? $"{r.Verdict.Word}: {r.Verdict.Headline}" : n.ReportError ?? "");
        return new NightReport(window, stages, night.Summary, planned, clock.Elapsed) { Published = night.Report, ReportError = night.ReportError };
    }

    /// <summary>Plan → run the array → register: one pipeline's three states. Returns the jobs planned.</summary>
    private async Task<int> RunPipeline(List<StageReport> stages, IWorkflowObserver observer, WorkflowStage planStage,
        Func<Task<PlanResult>> plan, CancellationToken ct)
    {
        var planned = await Stage(stages, observer, planStage, 1, plan, p => p.ArraySize == 0 && p.ClosedAtPlanning == 0
            ? "nothing to do"
            : $"{p.ArraySize} jobs" + (p.ClosedAtPlanning > 0 ? $", {p.ClosedAtPlanning} closed at planning" : ""));
        var runStage = planStage + 1;
        var outcomes = await Stage(stages, observer, runStage, planned.ArraySize,
            () => executor.RunAsync(planned, new Progress<ChildOutcome>(o => observer.WorkItemDone(runStage, o)), ct),
            o => o.Count == 0 ? "nothing to run" : Describe(o));
        await Stage(stages, observer, runStage + 1, 1, async () =>
            {
                if (planned.JobList is null) return new RegistrationReport();
                var reasons = outcomes.Where(o => o.Reason is not null).ToDictionary(o => o.Jid, o => o.Reason!);
                return await new RegisterCompletedJobs(dataSource, store, keys).RegisterJobListAsync(planned.JobList, reasons, ct);
            },
            r => $"{r.Registered} registered, {r.Lost} lost" + (r.Unchanged > 0 ? $", {r.Unchanged} already registered" : "")
                 + (r.Failures.Count > 0 ? $", {r.Failures.Count} failed to register" : ""));
        return planned.ArraySize + planned.ClosedAtPlanning;
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
