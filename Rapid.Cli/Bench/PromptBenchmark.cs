using System.Diagnostics;
using Dapper;
using Rapid.Cli.Embedded;
using Rapid.Cli.Engine;
using Rapid.Cli.Ingest;
using Rapid.Core.Storage;
using Rapid.Functions.Ingest;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Steps;
using Rapid.Pipeline.Simulation;

namespace Rapid.Cli.Bench;

/// <summary>What <c>rapid bench prompt</c> measured: the set-up (not timed against the target) and the landing image's latency.</summary>
/// <param name="Ingest">Reading the landed file's header, its checksum, storing and registering it.</param>
/// <param name="Processing">The prompt run: plan, run and register the science job, then post-processing.</param>
/// <param name="Registered">From the start of the prompt run until its science job's registration ended (the difference image registered).</param>
public sealed record PromptBenchmarkReport(int Size, TimeSpan Simulate, TimeSpan Reference, TimeSpan Ingest, TimeSpan Processing, TimeSpan? Registered,
    IReadOnlyList<StageReport> Stages, string? DiffImage, int? ExitCode, (double Before, double After) LoadAverage)
{
    /// <summary>The target's measure: the file landed (ingest starts) → its difference image registered; null when it never was.</summary>
    public TimeSpan? Latency => DiffImage is null ? null : Ingest + Registered;

    /// <summary>The file landed → its products post-processed (ids stamped, canonical names): the whole prompt run.</summary>
    public TimeSpan PostProcessed => Ingest + Processing;

    public static readonly TimeSpan Target = TimeSpan.FromSeconds(60);
}

/// <summary>
/// The prompt-processing latency target: a 4088² image whose tile already has a reference lands, and its difference image is
/// registered (and post-processed). A simulated survey of one field is made under the bench home, all but the last
/// epoch registered, a reference made and the last-but-one epoch processed (the set-up); then the last image is ingested and
/// processed as <c>rapid watch</c> does (<see cref="L2FileIngest"/>, <see cref="PromptProcessing"/>), timed. The watcher's
/// settle time (its <c>--settle</c>, 2 s by default) comes on top. In a scratch database, dropped afterwards.
/// </summary>
public static class PromptBenchmark
{
    public static async Task<PromptBenchmarkReport> RunAsync(string connectionString, RapidHome benchHome, int size, int epochs, int parallelism,
        Action<string> progress, CancellationToken ct = default)
    {
        if (epochs < 5) throw new ArgumentException($"bench prompt: --epochs {epochs}: must be at least 5 (3 for the reference, one processed first, one landing)");
        var loadBefore = OpsBenchmark.LoadAverage();
        var clock = Stopwatch.StartNew();
        var surveyDirectory = Path.Combine(benchHome.Path, "survey", $"{size}px-{epochs}epochs");
        var spec = new SurveySpec
        {
            FieldCentres = SimulatedSurveyIngest.TileCentres(1), Filters = ["H158"], Epochs = epochs, Size = size, TransientsPerField = 0, Seed = 1,
        };
        progress($"simulating {epochs} images of {size}x{size} in {surveyDirectory}");
        var survey = SurveySimulator.Generate(spec, surveyDirectory);
        var simulate = clock.Elapsed;
        var ordered = survey.Images.OrderBy(i => i.DateObsUtc).ToList();
        var landing = ordered[^1];

        await using var scratch = await ScratchDatabase.CreateAsync(connectionString, "prompt", ct);
        await using var database = OpsDb.Create(OpsRoles.SwitchTo(scratch.ConnectionString, OpsRoles.Operations));
        var workflow = new EmbeddedWorkflow(benchHome, database, parallelism, TimeSpan.FromMinutes(30), new PlanningOptions());
        var store = benchHome.OpenStore();
        if (Directory.Exists(store.Root)) Directory.Delete(store.Root, recursive: true);
        await SimulatedSurveyIngest.RegisterAsync(survey with { Images = ordered[..^1] }, store, Buckets.Default, database, ct);
        var procDate = Core.Jobs.ProcessingDate.Parse(landing.DateObsUtc.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture)).ToString();
        var prompt = new PromptProcessing(workflow);
        progress("set-up: the reference from the first epochs, and the last-but-one epoch processed");
        clock.Restart();
        var previous = await RidOfAsync(database, ordered[^2], ct);
        var first = await prompt.ProcessAsync(previous, procDate, ct: ct);
        if (first.DiffImage is null) throw new InvalidOperationException($"bench prompt: set-up failed: the last-but-one image gave no difference image (job {first.Jid}, exit {first.ExitCode}: {first.Reason})");
        var reference = clock.Elapsed;

        progress($"landing {Path.GetFileName(landing.Path)}");
        clock.Restart();
        var ingested = await new L2FileIngest(store, Buckets.Default, database).IngestAsync(landing.Path, ct);
        if (ingested.Problem is { } problem) throw new InvalidOperationException($"bench prompt: the landing image was refused: {problem}");
        var ingest = clock.Elapsed;
        clock.Restart();
        var registered = new RegisteredClock(clock);
        var outcome = await prompt.ProcessAsync(ingested.Registered!.Rid, procDate, registered, ct);
        var processing = clock.Elapsed;
        return new PromptBenchmarkReport(size, simulate, reference, ingest, processing, registered.At, outcome.Run?.Stages ?? [], outcome.DiffImage,
            outcome.ExitCode, (loadBefore, OpsBenchmark.LoadAverage()));
    }

    /// <summary>Reads the clock when the science job's registration ends.</summary>
    private sealed class RegisteredClock(Stopwatch clock) : IWorkflowObserver
    {
        public TimeSpan? At { get; private set; }
        public void StageStarted(WorkflowStage stage, int workItems) { }
        public void WorkItemDone(WorkflowStage stage, ChildOutcome? outcome) { }
        public void StageFinished(WorkflowStage stage, TimeSpan elapsed, string outcome)
        {
            if (stage == WorkflowStage.RegisterScience) At ??= clock.Elapsed;
        }
    }

    /// <summary>The registered image observed at the simulated image's time (one SCA per exposure: one image).</summary>
    private static async Task<long> RidOfAsync(Npgsql.NpgsqlDataSource database, SimulatedImage image, CancellationToken ct)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<long>(new CommandDefinition(
            "select rid from l2files where dateobs between @t - interval '1 second' and @t + interval '1 second' and vbest = 1",
            new { t = DateTime.SpecifyKind(image.DateObsUtc, DateTimeKind.Utc) }, cancellationToken: ct));
    }
}
