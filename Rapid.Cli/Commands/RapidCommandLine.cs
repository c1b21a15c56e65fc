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
            IngestCommand.Create(),
            WatchCommand.Create(),
            ServeCommand.Create(),
            SubmitCommand.Create(),
            DbCommand.Create(),
            DiffCommand.Create(),
            BenchCommand.Create(),
        };
        foreach (var record in RecordCommands.Create()) root.Subcommands.Add(record);
        foreach (var standIn in AwsStandInCommands.Create()) root.Subcommands.Add(standIn);
        return root;
    }

    /// <summary>
    /// Parses and runs a command line: a parse error is one line on stderr, the suggestion first, and exit code
    /// <see cref="CommandErrors.BadInput"/>; <paramref name="ct"/> is the command's cancellation (signals).
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args, CancellationToken ct = default)
    {
        var parse = Create().Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"rapid: {ParseErrors.Describe(parse)}");
            return CommandErrors.BadInput;
        }
        if (TerminationSignals.Current is { } signals) signals.Command = CommandPath(parse.CommandResult);
        // Signals are ours (TerminationSignals): the command cleans up before the process exits.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, ct);
    }

    /// <summary>The parsed command's path below the root, e.g. <c>bench prompt</c> (options such as --home are not in it).</summary>
    public static string CommandPath(System.CommandLine.Parsing.CommandResult command)
    {
        var names = new List<string>();
        for (var c = command; c is { Parent: not null }; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }
}
