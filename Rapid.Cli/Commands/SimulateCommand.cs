using System.CommandLine;
using Rapid.Cli.Embedded;
using Rapid.Cli.Ingest;
using Rapid.Core.Storage;
using Rapid.Pipeline.Simulation;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid simulate</c>: a Roman-like survey of L2 images with truth catalogs.</summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var outDir = new Option<string>("--out") { Description = "Directory to write the survey to", Required = true };
        var spec = new SurveyOptions(defaultSize: 4088);
        var register = new Option<bool>("--register") { Description = "Also add the exposures and L2 files to the ops database (files are copied into the object store)" };
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("simulate", "Write a simulated Roman survey: L2 images (SCI extension, DN) and truth catalogs")
        {
            outDir, register, db, home, verbose,
        };
        spec.AddTo(command);
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var survey = SurveySimulator.Generate(spec.Read(parse), parse.GetValue(outDir)!);
            Console.WriteLine($"Wrote {survey.Images.Count} images and their truth catalogs to {survey.Directory}");
            if (!parse.GetValue(register)) return 0;
            var rapidHome = new RapidHome(parse.GetValue(home)!);
            await using var dataSource = await rapidHome.OpenDatabaseAsync(parse.GetValue(db), line => Console.Error.WriteLine($"rapid: {line}"), ct);
            var registered = await SimulatedSurveyIngest.RegisterAsync(survey, rapidHome.OpenStore(), Buckets.Default, dataSource, ct);
            Console.WriteLine($"Registered {registered.Count(r => r.Inserted)} new L2 files ({registered.Count(r => !r.Inserted)} already known).");
            return 0;
        }));
        return command;
    }
}

/// <summary>The survey-shape options shared by simulate and demo.</summary>
internal sealed class SurveyOptions(int defaultSize, int defaultTransients = 4)
{
    public Option<int> Fields { get; } = new("--fields") { Description = "Number of fields (adjacent sky tiles)", DefaultValueFactory = _ => 2 };
    public Option<string> Filters { get; } = new("--filters") { Description = "Comma-separated filters", DefaultValueFactory = _ => "F184,H158" };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "Epochs (nights) per field and filter", DefaultValueFactory = _ => 8 };
    public Option<int> Size { get; } = new("--size") { Description = "Image size in pixels (square; Roman SCAs are 4088)", DefaultValueFactory = _ => defaultSize };
    public Option<int> Transients { get; } = new("--transients") { Description = "Transients per field", DefaultValueFactory = _ => defaultTransients };
    public Option<int> Seed { get; } = new("--seed") { Description = "Random seed (the same seed gives the same survey)", DefaultValueFactory = _ => 1 };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Fields, Filters, Epochs, Size, Transients, Seed }) command.Options.Add(o);
    }

    public SurveySpec Read(ParseResult parse)
    {
        var spec = new SurveySpec
        {
            FieldCentres = SimulatedSurveyIngest.TileCentres(parse.GetValue(Fields)),
            Filters = parse.GetValue(Filters)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Epochs = parse.GetValue(Epochs),
            Size = parse.GetValue(Size),
            TransientsPerField = parse.GetValue(Transients),
            Seed = parse.GetValue(Seed),
        };
        spec.Validate();
        return spec;
    }
}
