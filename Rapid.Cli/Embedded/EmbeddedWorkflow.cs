using Npgsql;
using Rapid.Cli.Engine;
using Rapid.Cli.Output;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Embedded;

/// <summary>Wires the nightly workflow for embedded mode: directory store, local executor, ops database.</summary>
public sealed record EmbeddedWorkflow(RapidHome Home, NpgsqlDataSource Database, int Parallelism, TimeSpan JobTimeout, PlanningOptions Planning)
{
    public Buckets Buckets { get; } = Buckets.Default;

    public LocalBatchExecutor CreateExecutor() =>
        new(PipelineEntryPoint.BesideCli(), Home.OpenStore(), Buckets, Home.StoreRoot) { Parallelism = Parallelism, Timeout = JobTimeout };

    public NightlyWorkflow Create(LocalBatchExecutor? executor = null) =>
        new(Database, Home.OpenStore(), new ObjectKeys(Buckets), executor ?? CreateExecutor(), Planning);

    /// <summary>What the console shows of a finished run: the summary, the verdict, where the report and the products are.</summary>
    public NightView View(NightReport run) => new(run.Summary, run.Published?.Verdict,
        run.Published is { } p && ObjectRef.TryParse(p.Location, out var stored) ? Home.OpenStore().PathOf(stored!) : null,
        run.ReportError, ProductsDirectory(run.Window.ProcDate.ToString()));

    /// <summary>Where a processing date's products are on disk.</summary>
    public string ProductsDirectory(string procDate) => Path.Combine(Home.StoreRoot, Buckets.Products, procDate);
}
