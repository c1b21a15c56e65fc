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
    private DiffOutcome _outcome = null!;

    public async Task InitializeAsync()
    {
        _set = await IndependentRenderer.RenderAsync(new ImageSetSpec
        {
            Renderer = ImageSetRenderers.Photutils, Seed = 41, Size = 256, References = 3, Transients = 20, Variables = 2,
            SaturatedStars = 1, HeaderStyle = "survey",
            DitherPx = 40, TransientsInThinCoverage = 12,
        }, Path.Combine(_root, "set"));
        _outcome = await new DiffRunner().RunAsync(new DiffRequest { Science = _set.Science, ReferenceInputs = _set.References, OutDirectory = Path.Combine(_root, "out") });
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    [Fact]
    public void Runs_through_and_records_the_observation_time_from_date_obs()
    {
        var science = FitsFile.ReadPrimaryHeader(_set.Science);
        Assert.Equal(32, science.GetLong("BITPIX"));
        Assert.False(science.Contains("MJD-OBS"));
        Assert.True(science.Contains("SATURVAL") && science.Contains("READNOI") && science.Contains("DATE-OBS"));
        Assert.True(science.GetDouble("CRPIX1") < -1000);

        var outcome = _outcome;
        Assert.Contains(outcome.Manifest.ExitCode, new[] { 0, 32 });
        var expected = FitsFile.ReadPrimaryHeader(_set.Science).GetDouble("OBSMJD")!.Value;
        var diff = FitsFile.ReadImage(Path.Combine(outcome.OutDirectory, "diffimage.fits"));
        Assert.Equal(expected, diff.Header.GetDouble("MJD-OBS")!.Value, 6);   // DATE-OBS to the second, OBSMJD to 1e-6 day
        var quality = ImageSetScorer.Score(_set, outcome.OutDirectory);
        Assert.True(quality.Snr7Found > 0, "no transient was found");
    }

    [Fact]
    public void Rows_where_fewer_than_3_reference_frames_cover_are_flagged_low_coverage_and_only_those()
    {
        var rows = ImageSetScorer.ReadCatalog(Path.Combine(_outcome.OutDirectory, "sources.fits"));
        int TrueMinCoverage(DeliveredRow r, int radius)
        {
            var min = int.MaxValue;
            for (var y = (int)Math.Round(r.Y - 1) - radius; y <= (int)Math.Round(r.Y - 1) + radius; y++)
                for (var x = (int)Math.Round(r.X - 1) - radius; x <= (int)Math.Round(r.X - 1) + radius; x++)
                    min = x < 0 || y < 0 || x >= _set.Width || y >= _set.Height ? 0 : Math.Min(min, (int)_set.Coverage[y * _set.Width + x]);
            return min;
        }
        const long lowCoverage = 4;
        Assert.Contains(rows, r => TrueMinCoverage(r, 0) < 3);   // the dithers leave thinly covered strips with detections in them
        Assert.All(rows.Where(r => TrueMinCoverage(r, 0) < 3), r => Assert.True((r.Flags & lowCoverage) != 0, $"row at ({r.X:F1}, {r.Y:F1}) unflagged"));
        // Saturated cores are missing from every frame, so the reference's own coverage drops there whatever the footprints.
        bool NearSaturated(DeliveredRow r) => _set.Stars.Any(s => s.Saturated && Math.Abs(s.X - r.X) + Math.Abs(s.Y - r.Y) < ImageSetScorer.SaturatedStarRadiusPixels);
        Assert.All(rows.Where(r => TrueMinCoverage(r, 6) >= 3 && !NearSaturated(r)), r => Assert.True((r.Flags & lowCoverage) == 0, $"row at ({r.X:F1}, {r.Y:F1}) flagged"));
    }

    [Fact]
    public async Task Every_product_unit_parses_in_astropy_as_a_fits_unit()
    {
        const string script = """
            import sys, glob, warnings
            import astropy.units as u
            from astropy.io import fits
            bad = []
            for path in sorted(glob.glob(sys.argv[1] + '/*.fits')):
                for hdu in fits.open(path):
                    units = [hdu.header['BUNIT']] if 'BUNIT' in hdu.header else []
                    units += [hdu.header[k] for k in hdu.header if k.startswith('TUNIT')]
                    for unit in units:
                        try: u.Unit(unit, format='fits')
                        except ValueError: bad.append(f'{path}[{hdu.name}]: {unit!r}')
            if bad:
                print(' ; '.join(bad), file=sys.stderr)
                sys.exit(1)
            """;
        var run = await Rapid.Cli.Bench.ChildProcess.RunAsync(IndependentRenderer.Python, ["-c", script, _outcome.OutDirectory]);
        Assert.True(run.ExitCode == 0, $"units astropy does not parse: {run.ErrorTail}");
    }

    [Fact]
    public void Headers_carry_provenance_and_one_zero_point_convention_that_matches_the_pixels()
    {
        var diff = FitsFile.ReadImage(Path.Combine(_outcome.OutDirectory, "diffimage.fits")).Header;
        var resampled = FitsFile.ReadImage(Path.Combine(_outcome.OutDirectory, "refimage_resampled.fits")).Header;
        var catalog = FitsFile.ReadPrimaryHeader(Path.Combine(_outcome.OutDirectory, "sources.fits"));
        foreach (var h in new[] { diff, resampled, catalog })
        {
            Assert.Equal("rapid-pipeline", h.GetString("SOFTWARE"));
            Assert.Matches("^[0-9a-f]{40}$", h.GetString("SWCOMMIT"));
            Assert.Matches("^[0-9]{8}$", h.GetString("PROCDATE"));
            Assert.Equal(new Rapid.Core.Contracts.PipelineSettings().Hash(), h.GetString("CFGHASH"));
            Assert.Equal("science.fits", h.GetString("SCIFILE"));
            Assert.EndsWith("reference_01.fits", h.GetString("REFFIL01"));
            Assert.EndsWith("reference_03.fits", h.GetString("REFFIL03"));
        }
        // ZPTMAG is the zero point of each file's own pixels: the science image's on D, the co-add's on the resampled
        // reference, so their difference predicts the flux scale the job measured on the stars.
        var predicted = Math.Pow(10, 0.4 * (diff.GetDouble("ZPTMAG")!.Value - resampled.GetDouble("ZPTMAG")!.Value));
        Assert.InRange(diff.GetDouble("SCALEFAC")!.Value / predicted, 0.97, 1.03);
        Assert.NotEqual(diff.GetDouble("ZPTMAG"), resampled.GetDouble("ZPTMAG"));
    }
}
