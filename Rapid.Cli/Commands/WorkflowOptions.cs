using System.CommandLine;
using Rapid.Cli.Embedded;
using Rapid.Functions.Record;
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

    public Option<bool> SuperiorReferences { get; } = new("--superior-references")
    {
        Description = "Re-make a night's best reference images when better inputs exist: at least --superior-min-frames more, "
                      + "or a 5th-percentile coverage predicted from their footprints at least --superior-min-coverage-gain frames higher",
    };
    public Option<int> SuperiorMinFrames { get; } = new("--superior-min-frames")
    {
        Description = "More input frames than the registered reference co-added that make a superior one",
        DefaultValueFactory = _ => new PlanningOptions().SuperiorReferenceMinExtraFrames,
    };
    public Option<double> SuperiorMinCoverageGain { get; } = new("--superior-min-coverage-gain")
    {
        Description = "Gain (frames) in predicted 5th-percentile coverage that makes a superior reference",
        DefaultValueFactory = _ => new PlanningOptions().SuperiorReferenceMinCoverageGain,
    };
    public Option<string?> ReferenceMjd { get; } = new("--reference-mjd")
    {
        Description = "START:END, the MJD range [start, end) reference inputs are taken from (default: every image before the night)",
    };
    public Option<string?> Settings { get; } = new("--settings")
    {
        Description = "A settings profile (JSON: schemaVersion, name, settings) the night's jobs run with; see docs/settings.md",
    };

    public Option<string?> Tag { get; } = new("--tag")
    {
        Description = "Processing tag the run is recorded under (1-64 letters, digits, . _ : + -); rapid runs --tag lists its runs",
    };

    public Option<int> MaxAttempts { get; } = new("--max-attempts")
    {
        Description = "Attempts a failed job gets within the run, the first included (1: no resubmission)",
        DefaultValueFactory = _ => new ResubmissionPolicy().MaxAttempts,
    };

    public Option<string> RetryExitCodes { get; } = new("--retry-exit-codes")
    {
        Description = "Exit codes of the jobs that are resubmitted (comma-separated; 64 error, 66 log upload failed, 70 lost)",
        DefaultValueFactory = _ => string.Join(",", new ResubmissionPolicy().ExitCodes.Order()),
    };

    public Option<double> RetryBackoff { get; } = new("--retry-backoff")
    {
        Description = "Seconds before the first resubmission; each later round waits twice as long",
        DefaultValueFactory = _ => new ResubmissionPolicy().BackoffSeconds,
    };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[]
                 {
                     Database, Home, Parallel, ReferenceGrid, JobTimeout, FakeSources, Settings, SuperiorReferences, SuperiorMinFrames, SuperiorMinCoverageGain,
                     ReferenceMjd, Tag, MaxAttempts, RetryExitCodes, RetryBackoff, Verbose,
                 })
            command.Options.Add(o);
    }

    /// <summary>"START:END" (MJDs, START before END) as a range, or null when not given.</summary>
    public static (double Start, double End)? ParseMjdRange(string? text) =>
        text is null ? null : PlanningOptions.ParseMjdRange(text, "--reference-mjd");

    /// <summary>The retry policy the options give; a bad value is named by its option.</summary>
    private ResubmissionPolicy Resubmission(ParseResult parse)
    {
        var attempts = parse.GetValue(MaxAttempts);
        if (attempts is < 1 or > 10) throw new ArgumentException($"--max-attempts {attempts}: must be 1-10");
        var backoff = parse.GetValue(RetryBackoff);
        if (!double.IsFinite(backoff) || backoff is < 0 or > 3600) throw new ArgumentException($"--retry-backoff {backoff}: must be 0-3600 seconds");
        var policy = new ResubmissionPolicy
        {
            MaxAttempts = attempts, BackoffSeconds = backoff,
            ExitCodes = ResubmissionPolicy.ParseExitCodes(parse.GetValue(RetryExitCodes)!, "--retry-exit-codes"),
        };
        return policy.Validated("--retry-exit-codes");
    }

    /// <param name="referenceGridWhenUnset">The tile grid to use when --reference-grid is not given (else its default).</param>
    /// <param name="createHome">Make --home (and its cluster) when missing; otherwise a missing one is named as bad input.</param>
    public async Task<Opened<EmbeddedWorkflow>> OpenAsync(ParseResult parse, bool force, CancellationToken ct, int? referenceGridWhenUnset = null,
        bool createHome = true)
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
        var minFrames = parse.GetValue(SuperiorMinFrames);
        if (minFrames < 1) throw new ArgumentException($"--superior-min-frames {minFrames}: must be at least 1");
        var minGain = parse.GetValue(SuperiorMinCoverageGain);
        if (!(minGain > 0) || !double.IsFinite(minGain)) throw new ArgumentException($"--superior-min-coverage-gain {minGain}: must be a number above 0");
        var mjdRange = ParseMjdRange(parse.GetValue(ReferenceMjd));
        var profile = parse.GetValue(Settings) is { } settingsFile ? SettingsProfileOption.Load(settingsFile) : null;
        var tag = Runs.CheckTag(parse.GetValue(Tag));
        var resubmission = Resubmission(parse);
        var home = new RapidHome(parse.GetValue(Home)!, createHome).RequireExisting();
        var db = await home.OpenDatabaseAsync(parse.GetValue(Database), line => Console.Error.WriteLine($"rapid: {line}"), ct);
        var planning = new PlanningOptions
        {
            TileNaxis1 = grid, TileNaxis2 = grid, Force = force,
            FakeSources = fakes > 0 ? new Core.Contracts.FakeSourcesConfig { Count = fakes } : null,
            SuperiorReferences = parse.GetValue(SuperiorReferences), SuperiorReferenceMinExtraFrames = minFrames,
            SuperiorReferenceMinCoverageGain = minGain, ReferenceInputsMjd = mjdRange,
            Pipeline = profile?.Settings ?? new Core.Contracts.PipelineSettings(),
            SettingsProfile = profile?.Name,
        };
        return new Opened<EmbeddedWorkflow>(
            new EmbeddedWorkflow(home, db, parallel, TimeSpan.FromSeconds(timeout), planning, CancellationReason: () => TerminationSignals.Reason)
            {
                Tag = tag, Resubmission = resubmission,
            }, db);
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
