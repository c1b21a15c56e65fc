using System.CommandLine;

namespace Rapid.Cli.Commands;

/// <summary>Options every command that touches the ops database or the object store shares.</summary>
internal static class CommonOptions
{
    public static Option<string?> Database() => new("--db")
    {
        Description = "Ops database connection string (default: $RAPID_DB, else the embedded cluster under --home)",
    };

    public static Option<string> Home() => new("--home")
    {
        Description = "Directory of the embedded mode: PostgreSQL cluster, object store, work files (default: $RAPID_HOME or ./.rapid)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RAPID_HOME") ?? ".rapid",
    };

    public static Option<string?> ProcDate() => new("--procdate")
    {
        Description = "Processing date yyyyMMdd (default: today in the operations time zone)",
    };

    public static Option<int> Parallel() => new("--parallel", "-j")
    {
        Description = "Pipeline jobs run at once (default: the number of cores)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static Option<bool> Verbose() => new("--verbose", "-v") { Description = "Print stack traces of errors" };
}
