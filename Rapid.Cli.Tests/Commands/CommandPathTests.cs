using Rapid.Cli.Commands;

namespace Rapid.Cli.Tests.Commands;

/// <summary>The command a process runs, as the parser saw it: the reasons of jobs a signal ends name it.</summary>
public sealed class CommandPathTests
{
    [Theory]
    [InlineData("run --procdate 20280910 --home /tmp/h", "run")]
    [InlineData("bench prompt --home /tmp/h", "bench prompt")]
    [InlineData("watch /tmp/landing --home /tmp/h", "watch")]
    public void The_command_path_is_the_parsed_sub_command_without_its_arguments(string line, string expected)
    {
        var parse = RapidCommandLine.Create().Parse(line.Split(' '));

        Assert.Equal(expected, RapidCommandLine.CommandPath(parse.CommandResult));
    }
}
