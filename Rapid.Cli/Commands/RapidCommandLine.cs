using System.CommandLine;

namespace Rapid.Cli.Commands;

/// <summary>The <c>rapid</c> command and its sub-commands.</summary>
public static class RapidCommandLine
{
    public static RootCommand Create()
    {
        var root = new RootCommand("Rapid: the RAPID difference-imaging pipeline for the Roman Space Telescope, on AWS or on one machine.")
        {
            DemoCommand.Create(),
            RunCommand.Create(),
            StatusCommand.Create(),
            ReportCommand.Create(),
            LogsCommand.Create(),
            SimulateCommand.Create(),
            DbCommand.Create(),
            DiffCommand.Create(),
            BenchCommand.Create(),
        };
        foreach (var record in RecordCommands.Create()) root.Subcommands.Add(record);
        foreach (var standIn in AwsStandInCommands.Create()) root.Subcommands.Add(standIn);
        return root;
    }
}
