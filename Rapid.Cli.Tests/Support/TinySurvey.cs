using Npgsql;
using Rapid.Cli.Embedded;
using Rapid.Cli.Ingest;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;
using Rapid.Pipeline.Simulation;

namespace Rapid.Cli.Tests.Support;

/// <summary>
/// A tiny simulated survey (small images, one field and filter) registered in a fresh database,
/// with an embedded workflow over it: the real simulator, ops database and pipeline processes.
/// </summary>
public sealed class TinySurvey : IAsyncDisposable
{
    public const int ImageSize = 192;
    public const int ReferenceGrid = 256;

    private TinySurvey(RapidHome home, string ownerConnectionString, NpgsqlDataSource db, SimulatedSurvey survey)
    {
        Home = home;
        OwnerConnectionString = ownerConnectionString;
        Database = db;
        Survey = survey;
    }

    public RapidHome Home { get; }
    /// <summary>The database's owner (who migrates it); <see cref="Database"/> works as the operations role.</summary>
    public string OwnerConnectionString { get; }
    public NpgsqlDataSource Database { get; }
    public SimulatedSurvey Survey { get; }

    /// <summary>The night of the last epoch, as a window.</summary>
    public WindowRequest LastNight(string procDate)
    {
        var night = Survey.Images.Max(i => i.DateObsUtc).Date;
        return new WindowRequest(ObservationWindow.Format(night), ObservationWindow.Format(night.AddDays(1)), procDate);
    }

    public static async Task<TinySurvey> CreateAsync(EmbeddedDatabaseFixture fixture, int epochs = 5, int fields = 1, int seed = 7)
    {
        var home = new RapidHome(Path.Combine(Path.GetTempPath(), $"rapid-home-{Guid.NewGuid():N}"[..26]));
        var owner = await fixture.CreateDatabaseAsync();
        var db = await home.OpenDatabaseAsync(owner);
        var spec = new SurveySpec
        {
            FieldCentres = SimulatedSurveyIngest.TileCentres(fields),
            Filters = ["H158"],
            Epochs = epochs,
            Size = ImageSize,
            TransientsPerField = epochs >= 6 ? 2 : 0,
            Seed = seed,
            MaxDitherPixels = 8,
        };
        var store = home.OpenStore();
        var dir = Path.Combine(store.Root, Buckets.Default.Data, "tiny");
        var survey = SurveySimulator.Generate(spec, dir);
        await SimulatedSurveyIngest.RegisterAsync(survey, store, Buckets.Default, db);
        return new TinySurvey(home, owner, db, survey);
    }

    public EmbeddedWorkflow Workflow(bool force = false) =>
        new(Home, Database, Parallelism: 2, JobTimeout: TimeSpan.FromMinutes(5),
            new PlanningOptions { TileNaxis1 = ReferenceGrid, TileNaxis2 = ReferenceGrid, Force = force });

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        try { Directory.Delete(Home.Path, recursive: true); } catch (IOException) { }
    }
}
