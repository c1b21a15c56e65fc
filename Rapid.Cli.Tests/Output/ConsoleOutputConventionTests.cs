using System.Text.RegularExpressions;
using Rapid.Core.Tests.Support;

namespace Rapid.Cli.Tests.Output;

/// <summary>
/// Every command writes through <c>ConsoleOutput.Create()</c>, the one place that decides colours, ANSI codes and
/// width from whether the output is a terminal. A console made anywhere else wrote escape codes into redirected
/// output (<c>rapid bench ops &gt; file</c> did).
/// </summary>
public sealed partial class ConsoleOutputConventionTests
{
    [Fact]
    public void No_command_makes_its_own_console()
    {
        var root = RepositoryFiles.Root();
        var offenders = Directory.EnumerateFiles(Path.Combine(root, "Rapid.Cli"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && Path.GetFileName(f) != "ConsoleOutput.cs")
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetRelativePath(root, f), Line: i + 1, Text: line.Trim())))
            .Where(l => SpectreGlobalConsole().IsMatch(l.Text))
            .Select(l => $"{l.File}:{l.Line}: {l.Text}")
            .ToList();
        Assert.True(offenders.Count == 0, "use ConsoleOutput.Create():\n" + string.Join('\n', offenders));
    }

    /// <summary>Spectre.Console's static console or a console made from settings.</summary>
    [GeneratedRegex(@"\bAnsiConsole\.(Create|Console|Write|WriteLine|Markup|MarkupLine|Live|Progress|Status)\b")]
    private static partial Regex SpectreGlobalConsole();
}
