using Npgsql;
using Rapid.Cli.Engine;
using Rapid.Cli.Output;
using Rapid.Core.Storage;
using Rapid.Functions.Record;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Embedded;

/// <summary>Wires the nightly workflow for embedded mode: directory store, local executor, ops database.</summary>
/// <param name="Clock">The clock scheduled windows are cut at (tests give a fixed one).</param>
/// <param name="CancellationReason">Why children are killed when the run is cancelled (the signal that stopped it).</param>
public sealed record EmbeddedWorkflow(RapidHome Home, NpgsqlDataSource Database, int Parallelism, TimeSpan JobTimeout, PlanningOptions Planning,
    TimeProvider? Clock = null, Func<string>? CancellationReason = null)
{
    public Buckets Buckets { get; } = Buckets.Default;

    /// <summary>The processing tag runs are recorded under (null: none).</summary>
    public string? Tag { get; init; }

    /// <summary>Which failed jobs a run resubmits (none unless given).</summary>
    public ResubmissionPolicy Resubmission { get; init; } = ResubmissionPolicy.None;

    public LocalBatchExecutor CreateExecutor() =>
        new(PipelineEntryPoint.BesideCli(), Home.OpenStore(), Buckets, Home.StoreRoot)
        {
            Parallelism = Parallelism, Timeout = JobTimeout, WorkRoot = Home.WorkRoot,
            CancellationReason = CancellationReason ?? (() => "the run was cancelled"),
        };

    /// <param name="stages">The stages the run takes (<see cref="NightStages.Prompt"/>: without the night's recovery job and report).</param>
    public NightlyWorkflow Create(LocalBatchExecutor? executor = null, NightStages stages = NightStages.Night) =>
        new(Database, Home.OpenStore(), new ObjectKeys(Buckets), executor ?? CreateExecutor(), Planning, new ResolveWindow(Clock))
        {
            Tag = Tag, Resubmission = Resubmission, Stages = stages,
        };

    /// <summary>What the console shows of a finished run: the summary, the verdict, where the report and the products are.</summary>
    public NightView View(NightReport run) => new(run.Summary, run.Published?.Verdict,
        run.Published is { } p && ObjectRef.TryParse(p.Location, out var stored) ? Home.OpenStore().PathOf(stored!) : null,
        run.ReportError, ProductsDirectory(run.Window.ProcDate.ToString()));

    /// <summary>Where a processing date's products are on disk.</summary>
    public string ProductsDirectory(string procDate) => Path.Combine(Home.StoreRoot, Buckets.Products, procDate);
}
