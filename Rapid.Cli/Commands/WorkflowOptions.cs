using System.CommandLine;
using Rapid.Cli.Embedded;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Commands;

/// <summary>Options of the commands that run the workflow in embedded mode (run, demo).</summary>
internal sealed class WorkflowOptions
{
    public Option<string?> Database { get; } = CommonOptions.Database();
    public Option<string> Home { get; } = CommonOptions.Home();
    public Option<int> Parallel { get; } = CommonOptions.Parallel();
    public Option<bool> Verbose { get; } = CommonOptions.Verbose();
    public Option<int> ReferenceGrid { get; } = new("--reference-grid")
    {
        Description = "Size in pixels (square, 0.11\"/px) of the tile grid reference images are co-added onto",
        DefaultValueFactory = _ => 7000,
    };
    public Option<int> JobTimeout { get; } = new("--job-timeout")
    {
        Description = "Seconds after which a pipeline job is killed (as Batch's attempt timeout)",
        DefaultValueFactory = _ => 7200,
    };

    public Option<int> FakeSources { get; } = new("--fake-sources")
    {
        Description = "Fake point sources injected into every science image to measure completeness (0: none)",
        DefaultValueFactory = _ => new Core.Contracts.FakeSourcesConfig().Count,
    };


    public Option<string?> Settings { get; } = new("--settings")
    {
        Description = "A settings profile (JSON: schemaVersion, name, settings) the night's jobs run with; see docs/settings.md",
    };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Database, Home, Parallel, ReferenceGrid, JobTimeout, FakeSources, Settings, Verbose }) command.Options.Add(o);
    }

    /// <param name="referenceGridWhenUnset">The tile grid to use when --reference-grid is not given (else its default).</param>
    public async Task<Opened<EmbeddedWorkflow>> OpenAsync(ParseResult parse, bool force, CancellationToken ct, int? referenceGridWhenUnset = null)
    {
        var given = parse.GetResult(ReferenceGrid) is { Implicit: false };
        var grid = given ? parse.GetValue(ReferenceGrid) : referenceGridWhenUnset ?? parse.GetValue(ReferenceGrid);
        if (grid < 64) throw new ArgumentException($"--reference-grid {grid}: must be at least 64 pixels");
        var parallel = parse.GetValue(Parallel);
        if (parallel < 1) throw new ArgumentException($"--parallel {parallel}: must be at least 1");
        var timeout = parse.GetValue(JobTimeout);
        if (timeout < 1) throw new ArgumentException($"--job-timeout {timeout}: must be at least 1 second");
        var fakes = parse.GetValue(FakeSources);
        if (fakes < 0) throw new ArgumentException($"--fake-sources {fakes}: must not be negative");
        var profile = parse.GetValue(Settings) is { } settingsFile ? SettingsProfileOption.Load(settingsFile) : null;
        var home = new RapidHome(parse.GetValue(Home)!);
        var db = await home.OpenDatabaseAsync(parse.GetValue(Database), line => Console.Error.WriteLine($"rapid: {line}"), ct);
        var planning = new PlanningOptions
        {
            TileNaxis1 = grid, TileNaxis2 = grid, Force = force,
            FakeSources = fakes > 0 ? new Core.Contracts.FakeSourcesConfig { Count = fakes } : null,
            Pipeline = profile?.Settings ?? new Core.Contracts.PipelineSettings(),
            SettingsProfile = profile?.Name,
        };
        return new Opened<EmbeddedWorkflow>(new EmbeddedWorkflow(home, db, parallel, TimeSpan.FromSeconds(timeout), planning), db);
    }
}

internal static class SettingsProfileOption
{
    public static Core.Contracts.SettingsProfile Load(string path)
    {
        try { return Core.Contracts.SettingsProfile.Load(path); }
        catch (Core.Contracts.SettingsException e) { throw new ArgumentException($"--settings {e.Message}", e); }
    }
}

/// <summary>A value with something to dispose when the command ends.</summary>
internal sealed class Opened<T>(T value, IAsyncDisposable resource) : IAsyncDisposable
{
    public T Value { get; } = value;
    public ValueTask DisposeAsync() => resource.DisposeAsync();
}
