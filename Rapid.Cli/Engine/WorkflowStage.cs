namespace Rapid.Cli.Engine;

/// <summary>The states of the nightly workflow, in order; the same as the AWS state machine's.</summary>
public enum WorkflowStage
{
    ResolveWindow,
    PlanReferences,
    RunReferences,
    RegisterReferences,
    PlanScience,
    RunScience,
    RegisterScience,
    PlanPostProcessing,
    RunPostProcessing,
    RegisterPostProcessing,
    PlanNightRecovery,
    RunNightRecovery,
    RegisterNightRecovery,
    Summarize,
}

public static class WorkflowStages
{
    public static string Title(this WorkflowStage stage) => stage switch
    {
        WorkflowStage.ResolveWindow => "Resolve window",
        WorkflowStage.PlanReferences => "Plan reference images (ppid 12)",
        WorkflowStage.RunReferences => "Run reference images",
        WorkflowStage.RegisterReferences => "Register reference images",
        WorkflowStage.PlanScience => "Plan science jobs (ppid 15)",
        WorkflowStage.RunScience => "Run science jobs",
        WorkflowStage.RegisterScience => "Register science jobs",
        WorkflowStage.PlanPostProcessing => "Plan post-processing (ppid 17)",
        WorkflowStage.RunPostProcessing => "Run post-processing",
        WorkflowStage.RegisterPostProcessing => "Register post-processing",
        WorkflowStage.PlanNightRecovery => "Plan night recovery (ppid 18)",
        WorkflowStage.RunNightRecovery => "Run night recovery",
        WorkflowStage.RegisterNightRecovery => "Register night recovery",
        WorkflowStage.Summarize => "Summarize",
        _ => stage.ToString(),
    };
}

public static class WorkflowStageKinds
{
    /// <summary>The stages that run pipeline jobs (the local stand-in for a Batch array).</summary>
    public static bool RunsJobs(this WorkflowStage stage) =>
        stage is WorkflowStage.RunReferences or WorkflowStage.RunScience or WorkflowStage.RunPostProcessing or WorkflowStage.RunNightRecovery;
}

/// <summary>Told what the workflow is doing (a progress display, a log, or nothing).</summary>
public interface IWorkflowObserver
{
    void StageStarted(WorkflowStage stage, int workItems);
    /// <param name="outcome">How the job ended, for the stages that run jobs (the executor's view: process exit code, reason).</param>
    void WorkItemDone(WorkflowStage stage, ChildOutcome? outcome);
    void StageFinished(WorkflowStage stage, TimeSpan elapsed, string outcome);

    /// <summary>The run's row is written (<c>runs.runid</c>), before anything is planned: what it makes can be followed from now.</summary>
    Task RunBegunAsync(long runId, CancellationToken ct) => Task.CompletedTask;
}

public sealed class SilentObserver : IWorkflowObserver
{
    public static SilentObserver Instance { get; } = new();
    public void StageStarted(WorkflowStage stage, int workItems) { }
    public void WorkItemDone(WorkflowStage stage, ChildOutcome? outcome) { }
    public void StageFinished(WorkflowStage stage, TimeSpan elapsed, string outcome) { }
}
