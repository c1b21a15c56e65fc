using System.CommandLine;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid bench</c>: benchmarks (figures, not pass/fail).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks: ops (planning and registration at scale), science (the science job at full size), report (the night report of a synthetic night)");
        command.Subcommands.Add(OpsBenchCommand.Create());
        command.Subcommands.Add(ScienceBenchCommand.Create());
        command.Subcommands.Add(ReportBenchCommand.Create());

        return command;
    }
}
