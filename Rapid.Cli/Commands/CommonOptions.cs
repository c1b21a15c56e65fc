using System.CommandLine;
using Npgsql;
using Rapid.Core.Jobs;
using Rapid.Functions.Steps;

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
        // --help shows the value in force: $RAPID_HOME when set, else .rapid.
        Description = "Directory of the embedded mode: PostgreSQL cluster, object store, work files (or $RAPID_HOME)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RAPID_HOME") ?? ".rapid",
    };

    public static Option<string?> ProcDate() => new("--procdate")
    {
        Description = "Processing date yyyyMMdd (default: today in the operations time zone)",
    };

    /// <summary>--procdate of the commands that look at a past night (status, report, logs): the latest by default.</summary>
    public static Option<string?> ProcDateOrLatest() => new("--procdate")
    {
        Description = "Processing date yyyyMMdd (default: the latest one any job ran on)",
    };

    /// <summary>The given processing date, else the latest one with jobs; an empty ops database is one line saying so.</summary>
    public static async Task<ProcessingDate> ResolveProcDateAsync(string? given, NpgsqlDataSource dataSource, CancellationToken ct) =>
        given is not null ? ProcessingDate.Parse(given)
        : await new SummarizeNight(dataSource).LatestProcessingDateAsync(ct)
          ?? throw new ArgumentException("no job has run in this ops database yet, so there is no processing date to show (run a night first: rapid run, or rapid demo)");

    public static Option<int> Parallel() => new("--parallel", "-j")
    {
        Description = "Pipeline jobs run at once (as many as this machine has cores unless given)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static Option<bool> Verbose() => new("--verbose", "-v") { Description = "Print stack traces of errors" };
}
