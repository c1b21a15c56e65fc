using System.Text.RegularExpressions;
using Rapid.Cli.Engine;
using Rapid.Cli.Output;
using Spectre.Console;

namespace Rapid.Cli.Tests.Output;

/// <summary>What a person sees while a night runs: on an 80-column terminal, and redirected to a log.</summary>
public sealed partial class ProgressDisplayTests
{
    [Fact]
    public async Task On_an_80_column_terminal_each_stage_is_one_line_with_n_of_N_and_its_time_and_failures_show_as_they_happen()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.Standard, Interactive = InteractionSupport.Yes, Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 80;
        console.Profile.Height = 24;

        await ProgressBars.ShowAsync(console, async observer =>
        {
            await RunScienceStage(observer, jobs: 1234, done: 617);
            await Task.Delay(400); // the live display redraws every 100 ms
            return 0;
        });

        var lines = Lines(writer.ToString());
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: '{l}'"));
        // The running stage: title, count, bar and elapsed time on one line (a bar squeezed out or a wrapped time fails here).
        var live = lines.Where(l => l.Contains("617 of 1,234")).ToList();
        Assert.True(live.Count > 0, string.Join('\n', lines));
        Assert.All(live, l => Assert.Matches(@"^Run science jobs\s+617 of 1,234 \S{16} \d\d:\d\d:\d\d\s*$", l));
        // Finished stages and the failed job stay on screen, above the live lines.
        Assert.Contains("✓ Plan science jobs (ppid 15): 1,234 jobs (1.2 s)", lines);
        Assert.Contains("✗ jid 4242 exit 65: an input is unreadable (rapid logs 4242)", lines);
    }

    [Fact]
    public async Task Redirected_the_display_is_plain_timestamped_lines_with_the_count_every_tenth_of_the_way()
    {
        var writer = new StringWriter();
        var console = ConsoleOutput.Create(redirected: true, _ => null, writer);

        await ProgressBars.ShowAsync(console, async observer =>
        {
            await RunScienceStage(observer, jobs: 1234, done: 1234);
            observer.StageFinished(WorkflowStage.RunScience, TimeSpan.FromSeconds(61), "1,233 succeeded, 1 failed");
            return 0;
        });

        var text = writer.ToString();
        Assert.DoesNotContain("\u001b", text);
        var lines = text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.All(lines, l => Assert.Matches(@"^\d\d:\d\d:\d\d ", l));
        var body = lines.Select(l => l[9..]).ToList();
        Assert.Equal(
        [
            "✓ Plan science jobs (ppid 15): 1,234 jobs (1.2 s)",
            "Run science jobs: 1,234 jobs",
            "Run science jobs: 124 of 1,234", "Run science jobs: 247 of 1,234", "Run science jobs: 371 of 1,234",
            "Run science jobs: 494 of 1,234",
            "✗ jid 4242 exit 65: an input is unreadable (rapid logs 4242)",
            "Run science jobs: 617 of 1,234",
            "Run science jobs: 741 of 1,234", "Run science jobs: 864 of 1,234", "Run science jobs: 988 of 1,234",
            "Run science jobs: 1,111 of 1,234", "Run science jobs: 1,234 of 1,234",
            "✓ Run science jobs: 1,233 succeeded, 1 failed (61.0 s)",
        ], body);
    }

    [Fact]
    public void Redirected_output_has_no_escape_codes_and_a_terminal_with_NO_COLOR_has_no_colours()
    {
        var writer = new StringWriter();
        ConsoleOutput.Create(redirected: true, _ => null, writer).MarkupLine("[red bold]failed[/] [link=file:///x]x[/]");
        Assert.Equal("failed x\n", writer.ToString().ReplaceLineEndings("\n"));
        Assert.Equal(ConsoleOutput.RedirectedWidth, ConsoleOutput.Create(redirected: true, _ => null, writer).Profile.Width);
        Assert.Equal(100, ConsoleOutput.Create(redirected: true, v => v == "COLUMNS" ? "100" : null, writer).Profile.Width);
        Assert.Equal(ColorSystem.NoColors, ConsoleOutput.Create(redirected: false, v => v == "NO_COLOR" ? "1" : null, writer).Profile.Capabilities.ColorSystem);
    }

    /// <summary>Plans 1,234 science jobs, then reports <paramref name="done"/> of them; the 617th fails with exit 65.</summary>
    private static async Task RunScienceStage(IWorkflowObserver observer, int jobs, int done)
    {
        observer.StageStarted(WorkflowStage.PlanScience, 1);
        observer.StageFinished(WorkflowStage.PlanScience, TimeSpan.FromSeconds(1.2), $"{jobs:N0} jobs");
        observer.StageStarted(WorkflowStage.RunScience, jobs);
        for (var i = 1; i <= done; i++)
            observer.WorkItemDone(WorkflowStage.RunScience, i == 617
                ? new ChildOutcome(4242, i, 65, "an input is unreadable", TimeSpan.FromSeconds(3))
                : new ChildOutcome(1000 + i, i, 0, null, TimeSpan.FromSeconds(3)));
        await Task.Yield();
    }

    /// <summary>
    /// The terminal's lines as a person reads them: colours and links out; a cursor movement, line break or carriage
    /// return starts a new line.
    /// </summary>
    private static List<string> Lines(string output) =>
        CursorMovement().Replace(Style().Replace(output, ""), "\n").Split('\n', '\r').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();

    [GeneratedRegex(@"\u001b(\[[0-9;]*m|\]8;[^\u001b\u0007]*(\u0007|\u001b\\))")]
    private static partial Regex Style();

    [GeneratedRegex(@"\u001b(\[[0-9;?]*[A-Za-z]|[()][0-9A-Z])")]
    private static partial Regex CursorMovement();
}
