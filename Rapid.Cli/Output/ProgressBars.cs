using System.Globalization;
using Rapid.Cli.Engine;
using Rapid.Core.Jobs;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Rapid.Cli.Output;

/// <summary>
/// What a person sees while a night runs. On a terminal: one live line per running stage (title, "n of N", a bar of fixed
/// width, elapsed time: it fits 80 columns), and above it one permanent line per finished stage and per failed job as it
/// happens, with the command that shows its log. Redirected (a log file, CI): the same lines, timestamped, and the
/// count of a long stage every tenth of the way instead of a bar.
/// </summary>
public sealed class ProgressBars : IWorkflowObserver
{
    private readonly IAnsiConsole _console;
    private readonly ProgressContext? _live;
    private readonly Dictionary<WorkflowStage, ProgressTask> _tasks = [];
    private readonly Dictionary<WorkflowStage, (int Done, int Total)> _counts = [];
    private readonly Lock _gate = new();

    private ProgressBars(IAnsiConsole console, ProgressContext? live) => (_console, _live) = (console, live);

    /// <summary>Width of the bar: title (up to 32), "n of N" and elapsed time beside it stay within 80 columns.</summary>
    public const int BarWidth = 16;

    public static async Task<T> ShowAsync<T>(IAnsiConsole console, Func<IWorkflowObserver, Task<T>> run)
    {
        if (!console.Profile.Capabilities.Interactive) return await run(new ProgressBars(console, null));
        return await console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new CountColumn(), new ProgressBarColumn { Width = BarWidth }, new ElapsedTimeColumn())
            .StartAsync(ctx => run(new ProgressBars(console, ctx)));
    }

    public void StageStarted(WorkflowStage stage, int workItems)
    {
        lock (_gate)
        {
            _counts[stage] = (0, workItems);
            if (_live is not null)
            {
                var task = _live.AddTask(Markup.Escape(stage.Title()), maxValue: Math.Max(1, workItems));
                if (stage.RunsJobs()) task.State.Update<bool>(CountColumn.Key, _ => true);
                _tasks[stage] = task;
            }
            else if (stage.RunsJobs() && workItems > 0) Line(string.Create(CultureInfo.InvariantCulture, $"{stage.Title()}: {workItems:N0} job{(workItems == 1 ? "" : "s")}"));
        }
    }

    public void WorkItemDone(WorkflowStage stage, ChildOutcome? outcome)
    {
        lock (_gate)
        {
            var (done, total) = _counts.GetValueOrDefault(stage);
            _counts[stage] = (++done, total);
            if (_tasks.TryGetValue(stage, out var task)) task.Increment(1);
            if (outcome is { } o && ExitCodes.Severity(o.ExitCode) == ExitCodeSeverity.Error)
                Line($"[red]✗[/] jid {o.Jid} exit {o.ExitCode}" + (o.Reason is { } r ? $": {Markup.Escape(r)}" : "") + $" [dim](rapid logs {o.Jid})[/]", markup: true);
            // Redirected output: the count of a long stage every tenth of the way.
            if (_live is null && total >= 20 && done * 10 / total != (done - 1) * 10 / total)
                Line($"{stage.Title()}: {done:N0} of {total:N0}");
        }
    }

    public void StageFinished(WorkflowStage stage, TimeSpan elapsed, string outcome)
    {
        lock (_gate)
        {
            if (_tasks.Remove(stage, out var task))
            {
                task.Value = task.MaxValue;
                task.StopTask();
            }
            Line($"[green]✓[/] {Markup.Escape(stage.Title())}: {Markup.Escape(outcome)} [dim]({elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s)[/]", markup: true);
        }
    }

    private void Line(string text, bool markup = false)
    {
        var prefix = _live is null ? DateTime.UtcNow.ToString("HH:mm:ss ", CultureInfo.InvariantCulture) : "";
        _console.MarkupLine(prefix + (markup ? text : Markup.Escape(text)));
    }

    /// <summary>"n of N" for stages that run jobs; nothing for the one-step stages (plan, register).</summary>
    private sealed class CountColumn : ProgressColumn
    {
        public const string Key = "runs-jobs";

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            !task.State.Get<bool>(Key) ? new Text("") : new Text(string.Create(CultureInfo.InvariantCulture, $"{task.Value:N0} of {task.MaxValue:N0}"));
    }
}
