using System.CommandLine;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid bench</c>: benchmarks (figures, not pass/fail).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks: ops (planning and registration at scale), science (the science job at full size), images (issue 11's quality targets on independently rendered images), report (the night report of a synthetic night), prompt (an image landing → its difference image)");
        command.Subcommands.Add(OpsBenchCommand.Create());
        command.Subcommands.Add(ScienceBenchCommand.Create());
        command.Subcommands.Add(ImagesBenchCommand.Create());
        command.Subcommands.Add(ReportBenchCommand.Create());
        command.Subcommands.Add(PromptBenchCommand.Create());

        return command;
    }
}
