using System.Text.Json;
using Rapid.Cli.Bench;
using Rapid.Cli.Bench.ImageSets;

namespace Rapid.Cli.Tests.Ingest;

/// <summary>What astropy read from one L2 file it wrote: the values ingest must register.</summary>
public sealed record ExpectedL2File(double Mjd, string Filter, int Sca, double ExpTime, double[][] Corners, double[] Center, string Md5, int Naxis1, int Naxis2);

/// <summary>
/// L2 files as surveys write them, written by astropy (l2_files.py, not Rapid's FITS writer) into good/ (a Roman-like
/// primary image with TAN-SIP and MJD-OBS; a gzip file with an empty primary holding DATE-OBS/TIMESYS, a DQ extension,
/// then SCI with INHERIT = T; unsigned 16-bit counts with only OBSMJD), v2/ (a new version of the first) and bad/ (each
/// refused for one keyword), with astropy's own reading of the good ones (all_pix2world for the footprint).
/// </summary>
public sealed class AstropyL2Files : IDisposable
{
    private AstropyL2Files(string root, IReadOnlyDictionary<string, ExpectedL2File> good, IReadOnlyDictionary<string, string> refused)
    {
        Root = root;
        Good = good;
        Refused = refused;
    }

    public string Root { get; }
    public string GoodDirectory => Path.Combine(Root, "good");
    public string BadDirectory => Path.Combine(Root, "bad");
    public string SecondVersionDirectory => Path.Combine(Root, "v2");
    public IReadOnlyDictionary<string, ExpectedL2File> Good { get; }
    /// <summary>File name → the keyword (or value) its one error line must name.</summary>
    public IReadOnlyDictionary<string, string> Refused { get; }

    public static async Task<AstropyL2Files> WriteAsync()
    {
        var root = Directory.CreateTempSubdirectory("rapid-l2-").FullName;
        foreach (var d in new[] { "good", "bad", "v2" }) Directory.CreateDirectory(Path.Combine(root, d));
        var run = await ChildProcess.RunAsync(IndependentRenderer.Python, [Path.Combine(AppContext.BaseDirectory, "Ingest", "l2_files.py"), root]);
        if (run.ExitCode != 0) throw new InvalidOperationException($"astropy could not write the L2 files: {run.ErrorTail}");
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(root, "expected.json")));
        var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true };
        var good = json.RootElement.GetProperty("good").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.Deserialize<ExpectedL2File>(options)!);
        var refused = json.RootElement.GetProperty("refused").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        return new AstropyL2Files(root, good, refused);
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
