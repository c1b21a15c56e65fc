using System.CommandLine;
using Rapid.Cli.Commands;

var root = new RootCommand("Rapid: the RAPID difference-imaging pipeline for the Roman Space Telescope, on AWS or on one machine.")
{
    DemoCommand.Create(),
    RunCommand.Create(),
    StatusCommand.Create(),
    SimulateCommand.Create(),
    DbCommand.Create(),
    BenchCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
