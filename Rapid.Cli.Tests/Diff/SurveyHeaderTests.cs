using Rapid.Cli.Bench.ImageSets;
using Rapid.Cli.Diff;
using Rapid.Pipeline.Fits;

namespace Rapid.Cli.Tests.Diff;

/// <summary>
/// A real survey's detector header, as the one that made <c>rapid diff</c> die with "a FITS header cannot hold the
/// non-finite value NaN" (exit 64): a 4th-order TAN-SIP with ~100 px of distortion and CRPIX far off the chip, the image
/// in the primary HDU as 32-bit integers, DATE-OBS/TIMESYS/OBSMJD but no MJD-OBS, SATURVAL, READNOI and EGAIN. The
/// images are rendered by photutils, placed through astropy's WCS.
/// </summary>
public sealed class SurveyHeaderTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("rapid-survey-header-").FullName;
    private ImageSet _set = null!;

    public async Task InitializeAsync() =>
        _set = await IndependentRenderer.RenderAsync(new ImageSetSpec
        {
            Renderer = ImageSetRenderers.Photutils, Seed = 41, Size = 256, References = 3, Transients = 20, Variables = 2,
            SaturatedStars = 1, HeaderStyle = "survey",
        }, Path.Combine(_root, "set"));

    public Task DisposeAsync()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Runs_through_and_records_the_observation_time_from_date_obs()
    {
        var science = FitsFile.ReadPrimaryHeader(_set.Science);
        Assert.Equal(32, science.GetLong("BITPIX"));
        Assert.False(science.Contains("MJD-OBS"));
        Assert.True(science.Contains("SATURVAL") && science.Contains("READNOI") && science.Contains("DATE-OBS"));
        Assert.True(science.GetDouble("CRPIX1") < -1000);

        var outcome = await new DiffRunner().RunAsync(new DiffRequest { Science = _set.Science, ReferenceInputs = _set.References, OutDirectory = Path.Combine(_root, "out") });

        Assert.Contains(outcome.Manifest.ExitCode, new[] { 0, 32 });
        var expected = FitsFile.ReadPrimaryHeader(_set.Science).GetDouble("OBSMJD")!.Value;
        var diff = FitsFile.ReadImage(Path.Combine(outcome.OutDirectory, "diffimage.fits"));
        Assert.Equal(expected, diff.Header.GetDouble("MJD-OBS")!.Value, 6);   // DATE-OBS to the second, OBSMJD to 1e-6 day
        var quality = ImageSetScorer.Score(_set, outcome.OutDirectory);
        Assert.True(quality.Snr7Found > 0, "no transient was found");
    }
}
