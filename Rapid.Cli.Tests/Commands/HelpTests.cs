using System.CommandLine;
using Rapid.Cli.Commands;
using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Commands;

/// <summary>Every command's <c>--help</c> as a new user reads it.</summary>
public sealed class HelpTests
{
    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        void Walk(Command command, string path)
        {
            foreach (var sub in command.Subcommands)
            {
                data.Add((path + " " + sub.Name).Trim());
                Walk(sub, path + " " + sub.Name);
            }
        }
        Walk(RapidCommandLine.Create(), "");
        return data;
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Each_option_states_its_default_once(string command)
    {
        var (code, output, error) = await ConsoleCapture.InvokeAsync([.. command.Split(' '), "--help"]);
        Assert.True(code == 0, error);
        // System.CommandLine appends "[default: value]" to an option with a default value: the description must not say it again.
        foreach (var entry in OptionEntries(output).Where(e => e.Contains("[default: ", StringComparison.Ordinal)))
        {
            var description = entry[..entry.IndexOf("[default: ", StringComparison.Ordinal)];
            Assert.False(description.Contains("default", StringComparison.OrdinalIgnoreCase), $"rapid {command} --help says the default twice: {entry}");
        }
    }

    /// <summary>The help's option entries, each with its wrapped continuation lines joined.</summary>
    private static List<string> OptionEntries(string help)
    {
        var entries = new List<string>();
        var inOptions = false;
        foreach (var line in help.ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.TrimEnd().EndsWith(':') && !line.StartsWith(' ')) { inOptions = line.StartsWith("Options", StringComparison.Ordinal); continue; }
            if (!inOptions || line.Trim().Length == 0) continue;
            if (line.TrimStart().StartsWith('-')) entries.Add(line.Trim());
            else if (entries.Count > 0) entries[^1] += " " + line.Trim();
        }
        return entries;
    }
}
