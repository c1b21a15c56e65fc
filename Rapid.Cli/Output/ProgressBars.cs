using Rapid.Cli.Engine;
using Spectre.Console;

namespace Rapid.Cli.Output;

/// <summary>A Spectre.Console progress bar per workflow stage; one line per stage when output is not a terminal.</summary>
public sealed class ProgressBars(ProgressContext context) : IWorkflowObserver
{
    private readonly Dictionary<WorkflowStage, ProgressTask> _tasks = [];

    public static async Task<T> ShowAsync<T>(Func<IWorkflowObserver, Task<T>> run)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
            return await run(new ProgressLines());
        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(ctx => run(new ProgressBars(ctx)));
    }

    public void StageStarted(WorkflowStage stage, int workItems)
    {
        lock (_tasks)
            _tasks[stage] = context.AddTask(Markup.Escape(stage.Title()), maxValue: Math.Max(1, workItems));
    }

    public void WorkItemDone(WorkflowStage stage)
    {
        lock (_tasks) if (_tasks.TryGetValue(stage, out var t)) t.Increment(1);
    }

    public void StageFinished(WorkflowStage stage, TimeSpan elapsed, string outcome)
    {
        lock (_tasks)
        {
            if (!_tasks.TryGetValue(stage, out var t)) return;
            t.Description = Markup.Escape($"{stage.Title()}: {outcome}");
            t.Value = t.MaxValue;
            t.StopTask();
        }
    }

    /// <summary>Plain lines for logs and CI.</summary>
    private sealed class ProgressLines : IWorkflowObserver
    {
        public void StageStarted(WorkflowStage stage, int workItems) =>
            Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {stage.Title()} ({workItems})...");
        public void WorkItemDone(WorkflowStage stage) { }
        public void StageFinished(WorkflowStage stage, TimeSpan elapsed, string outcome) =>
            Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {stage.Title()}: {outcome} [{elapsed.TotalSeconds:0.0} s]");
    }
}
