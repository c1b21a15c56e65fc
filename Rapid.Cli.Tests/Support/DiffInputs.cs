using Rapid.Cli.Ingest;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Simulation;

namespace Rapid.Cli.Tests.Support;

/// <summary>
/// Small simulated images for <c>rapid diff</c>: one field and filter, the first epochs quiet (reference inputs),
/// the last one the science image; plus ways to spoil a copy of a file (for the bad-input tests).
/// </summary>
public sealed class DiffInputs : IDisposable
{
    public const int ImageSize = 160;

    public DiffInputs()
    {
        Directory = System.IO.Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"rapid-diff-{Guid.NewGuid():N}"[..22])).FullName;
        var spec = new SurveySpec
        {
            FieldCentres = SimulatedSurveyIngest.TileCentres(1),
            Filters = ["H158"],
            Epochs = 6,
            Size = ImageSize,
            TransientsPerField = 2,
            Seed = 11,
            MaxDitherPixels = 6,
        };
        var survey = SurveySimulator.Generate(spec, Path.Combine(Directory, "survey"));
        var images = survey.Images.OrderBy(i => i.Epoch).Select(i => i.Path).ToList();
        Science = images[^1];
        References = images.Take(4).ToList();
    }

    public string Directory { get; }
    public string Science { get; }
    public IReadOnlyList<string> References { get; }

    public string NewOutDirectory() => Path.Combine(Directory, $"out-{Guid.NewGuid():N}"[..12]);

    /// <summary>A copy of <paramref name="source"/> (SCI extension) with its header and pixels changed.</summary>
    public string Spoiled(string source, string name, Action<FitsHeader, float[]> spoil)
    {
        var image = FitsFile.ReadImage(source);
        var header = image.Header.Clone();
        var pixels = (float[])image.Pixels.Clone();
        spoil(header, pixels);
        var path = Path.Combine(Directory, name);
        FitsFile.WriteImageExtension(path, new FitsHeader(), new FitsImage(image.Width, image.Height, pixels, header), "SCI");
        return path;
    }

    /// <summary>Entries of the inputs' directory whose names start with a dot: the scratch directories of runs, which must not outlive them.</summary>
    public IReadOnlyList<string> Leftovers() =>
        System.IO.Directory.EnumerateFileSystemEntries(Directory).Where(p => Path.GetFileName(p).StartsWith('.')).ToList();

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
