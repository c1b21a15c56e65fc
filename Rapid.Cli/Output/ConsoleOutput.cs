using Spectre.Console;

namespace Rapid.Cli.Output;

/// <summary>
/// The console a command writes to, made once per command over the current <see cref="Console.Out"/>: colours, live
/// displays and ANSI codes only on a terminal. Output redirected to a file or a pipe gets plain text (no escape
/// codes, no live display) laid out at <c>$COLUMNS</c> or 120 columns; <c>NO_COLOR</c> (no-color.org) turns colours off
/// on a terminal too.
/// </summary>
public static class ConsoleOutput
{
    /// <summary>Width of plain output when nothing says otherwise: wide enough that tables keep one line per row in a log.</summary>
    public const int RedirectedWidth = 120;

    public static IAnsiConsole Create() => Create(Console.IsOutputRedirected, Environment.GetEnvironmentVariable, Console.Out);

    internal static IAnsiConsole Create(bool redirected, Func<string, string?> environment, TextWriter output)
    {
        var noColor = environment("NO_COLOR") is { Length: > 0 };
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected || noColor ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(output),
        });
        if (redirected)
            console.Profile.Width = int.TryParse(environment("COLUMNS"), out var columns) && columns >= 40 ? columns : RedirectedWidth;
        return console;
    }
}
