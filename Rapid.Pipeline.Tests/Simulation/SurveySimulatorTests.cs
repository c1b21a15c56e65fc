using System.Globalization;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Simulation;
using Rapid.Pipeline.Tests.Fits.Support;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Simulation;

/// <summary>One small survey written once for the class (1 field, 2 filters, 6 epochs, 192×192, TAN-SIP).</summary>
public sealed class SmallSurveyFixture : IDisposable
{
    public TempDirectory Directory { get; } = new();
    public SurveySpec Spec { get; } = new()
    {
        FieldCentres = [(359.98, -12.5)], Epochs = 6, Size = 192, TransientsPerField = 2, VariablesPerField = 1,
        TransientQuietEpochs = 3, StarMagnitudes = (17, 24), StarsPerSquareArcmin = 150, GalaxiesPerSquareArcmin = 100,
    };
    public SimulatedSurvey Survey { get; }
    public List<int> ProgressReports { get; } = [];

    public SmallSurveyFixture()
    {
        Survey = SurveySimulator.Generate(Spec, Directory.Path, new SynchronousProgress(ProgressReports));
    }

    public void Dispose() => Directory.Dispose();

    private sealed class SynchronousProgress(List<int> reports) : IProgress<int>
    {
        public void Report(int value) { lock (reports) reports.Add(value); }
    }
}

public class SurveySimulatorTests(SmallSurveyFixture fixture) : IClassFixture<SmallSurveyFixture>
{
    private SimulatedSurvey Survey => fixture.Survey;

    [Fact]
    public void Writes_one_image_and_one_truth_file_per_field_filter_and_epoch()
    {
        Assert.Equal(1 * 2 * 6, Survey.Images.Count);
        Assert.All(Survey.Images, i => Assert.True(File.Exists(i.Path) && File.Exists(i.TruthPath)));
        Assert.True(File.Exists(Survey.ObjectsTruthPath) && File.Exists(Survey.LightCurvesPath));
        Assert.Equal(Survey.Images.Count, fixture.ProgressReports.Max());
        Assert.DoesNotContain(System.IO.Directory.EnumerateFiles(fixture.Directory.Path, "*", SearchOption.AllDirectories),
            Rapid.Core.Storage.AtomicFile.IsTemporary);
    }

    [Fact]
    public void Images_are_shaped_like_the_openuniverse_lite_files()
    {
        var image = Survey.Images[0];
        var primary = FitsFile.ReadPrimaryHeader(image.Path);
        Assert.Equal(0L, primary.GetLong("NAXIS"));
        var sci = FitsFile.ReadImage(image.Path, "SCI");
        Assert.Equal((192, 192), (sci.Width, sci.Height));
        Assert.Equal("DN", sci.Header.GetString("BUNIT"));
        foreach (var key in new[] { "DATE-OBS", "MJD-OBS", "FILTER", "EXPTIME", "RA_TARG", "DEC_TARG", "SCA_NUM", "ZPTMAG", "SKY_MEAN", "PA_OBSY", "GAIN", "RDNOISE", "SATURATE" })
            Assert.True(sci.Header.Contains(key), $"SCI header lacks {key}");
        Assert.Equal("RA---TAN-SIP", sci.Header.GetString("CTYPE1"));
        Assert.StartsWith("Roman_TDS_simple_model_F184_", Path.GetFileName(Survey.Images.First(i => i.Filter == "F184").Path));
    }

    [Fact]
    public void Header_values_agree_with_the_image_record_and_each_other()
    {
        foreach (var image in Survey.Images)
        {
            var h = FitsFile.ReadImage(image.Path).Header;
            Assert.Equal(image.Filter, h.GetString("FILTER"));
            Assert.Equal(139.8, h.GetDouble("EXPTIME"));
            var dateObs = DateTime.ParseExact(h.GetString("DATE-OBS")!, "yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            Assert.Equal(image.DateObsUtc, dateObs);
            Assert.Equal(SurveySchedule.ToMjd(dateObs), h.GetDouble("MJD-OBS")!.Value, 8);
            Assert.Equal(image.MjdObs, h.GetDouble("MJD-OBS")!.Value, 8);
            Assert.Equal(image.ZeroPointMag, h.GetDouble("ZPTMAG")!.Value, 9);
            Assert.Equal(8.0 / 1.8, h.GetDouble("RDNOISE")!.Value, 9);      // DN, as the pipeline reads it
            Assert.Equal(1.8, h.GetDouble("GAIN"));
            Assert.Equal(100_000, h.GetDouble("SATURATE"));
        }
        Assert.Equal(Survey.Images.Count, Survey.Images.Select(i => i.DateObsUtc).Distinct().Count());
    }

    [Fact]
    public void Every_file_passes_fitsverify()
    {
        FitsVerify.AssertValid(Survey.Images[0].Path);
        FitsVerify.AssertValid(Survey.Images[^1].TruthPath);
        FitsVerify.AssertValid(Survey.ObjectsTruthPath);
        FitsVerify.AssertValid(Survey.LightCurvesPath);
    }

    [Fact]
    public void Truth_catalog_columns_describe_the_image()
    {
        var image = Survey.Images[^1];
        var t = FitsFile.ReadTable(image.TruthPath, "TRUTH");
        Assert.Equal(["ID", "TYPE", "RA", "DEC", "X", "Y", "MAG", "FLUX"], t.ColumnNames);
        Assert.True(t.RowCount > 10);
        Assert.All(t.GetDoubles("X"), x => Assert.InRange(x, 0.5, 192.5));
        Assert.Contains("transient", t.GetStrings("TYPE").Select(s => s.Trim()));
    }

    [Fact]
    public void Truth_positions_agree_with_astropy_reading_the_header_within_a_hundredth_of_a_pixel()
    {
        const string script = """
            import sys, warnings
            from astropy.io import fits
            from astropy.wcs import WCS
            warnings.simplefilter('ignore')
            w = WCS(fits.open(sys.argv[1])['SCI'].header)
            t = fits.open(sys.argv[2])['TRUTH'].data
            x, y = w.all_world2pix(t['RA'], t['DEC'], 1, tolerance=1e-8, maxiter=100)
            print(max(abs(x - t['X']).max(), abs(y - t['Y']).max()))
            """;
        foreach (var image in new[] { Survey.Images[0], Survey.Images[^1] })
        {
            var worst = double.Parse(Astropy.Run(script, image.Path, image.TruthPath).Trim(), CultureInfo.InvariantCulture);
            Assert.InRange(worst, 0, 0.01);
        }
    }

    [Fact]
    public void The_pipeline_wcs_reads_the_header_to_the_truth_positions_and_round_trips_within_a_thousandth_of_a_pixel()
    {
        foreach (var image in Survey.Images)
        {
            var wcs = TanSipWcs.FromHeader(FitsFile.ReadImage(image.Path).Header, image.Path);
            Assert.True(wcs.HasSip);
            var t = FitsFile.ReadTable(image.TruthPath, "TRUTH");
            var (ra, dec, xs, ys) = (t.GetDoubles("RA"), t.GetDoubles("DEC"), t.GetDoubles("X"), t.GetDoubles("Y"));
            for (var i = 0; i < t.RowCount; i++)
            {
                var (x, y) = wcs.SkyToPixel(ra[i], dec[i]);
                Assert.InRange(Math.Abs(x - xs[i]), 0, 0.001);
                Assert.InRange(Math.Abs(y - ys[i]), 0, 0.001);
            }
            foreach (var (x, y) in new[] { (1.0, 1.0), (192.0, 192.0), (96.5, 40.25) })
            {
                var (r, d) = wcs.PixelToSky(x, y);
                var (x2, y2) = wcs.SkyToPixel(r, d);
                Assert.InRange(Math.Abs(x2 - x) + Math.Abs(y2 - y), 0, 0.001);
            }
        }
    }

    [Fact]
    public void Transients_are_absent_from_early_truth_and_light_curves_and_present_later()
    {
        var curves = FitsFile.ReadTable(Survey.LightCurvesPath, "LIGHTCURVES");
        var types = curves.GetStrings("TYPE").Select(s => s.Trim()).ToArray();
        var epochs = curves.GetLongs("EPOCH");
        var flux = curves.GetDoubles("FLUX");
        var transientRows = Enumerable.Range(0, curves.RowCount).Where(i => types[i] == "transient").ToList();
        Assert.Equal(2 * 2 * 6, transientRows.Count);
        Assert.All(transientRows.Where(i => epochs[i] < 3), i => Assert.Equal(0, flux[i]));
        Assert.All(transientRows.Where(i => epochs[i] == 5), i => Assert.True(flux[i] > 0));
    }

    [Fact]
    public void Truth_reads_back_and_yields_the_shining_transients_to_recover()
    {
        var late = Survey.Images.Last(i => i.Filter == "F184");
        var rows = SimulatedTruth.Read(late.TruthPath);
        Assert.Equal(FitsFile.ReadTable(late.TruthPath, "TRUTH").RowCount, rows.Count);
        var transients = SimulatedTruth.TransientsToRecover(rows);
        Assert.Equal(2, transients.Count);
        Assert.All(transients, t => Assert.True(t.FluxDn > 0 && double.IsFinite(t.Mag)));
        var early = SimulatedTruth.Read(Survey.Images.First(i => i.Filter == "F184").TruthPath);
        Assert.Empty(SimulatedTruth.TransientsToRecover(early));
        Assert.Contains(early, r => r.Type == SkyObjectType.Transient && double.IsPositiveInfinity(r.Mag));
    }

    [Fact]
    public void Every_image_finds_its_truth_catalog_at_the_key_beside_it()
    {
        Assert.All(Survey.Images, i =>
        {
            var key = Path.GetRelativePath(Survey.Directory, i.Path).Replace(Path.DirectorySeparatorChar, '/');
            Assert.Equal(Path.GetRelativePath(Survey.Directory, i.TruthPath).Replace(Path.DirectorySeparatorChar, '/'), SimulatedFiles.TruthKeyFor(key));
            Assert.Equal(Path.GetRelativePath(Survey.Directory, i.TruthPath).Replace(Path.DirectorySeparatorChar, '/').Insert(0, "sim/x/"),
                SimulatedFiles.TruthKeyFor("sim/x/" + key));
        });
        Assert.Null(SimulatedFiles.TruthKeyFor("sim/other/some_image.fits"));
        Assert.Null(SimulatedFiles.TruthKeyFor("sim/notimages/Roman_TDS_simple_model_H158_1_1_lite.fits"));
    }

    [Fact]
    public void Survey_truth_lists_every_object_once_with_a_magnitude_per_filter()
    {
        var objects = FitsFile.ReadTable(Survey.ObjectsTruthPath, "OBJECTS");
        var ids = objects.GetLongs("ID");
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.Contains("MAG_F184", objects.ColumnNames);
        Assert.Contains("MAG_H158", objects.ColumnNames);
        Assert.Equal(2, objects.GetStrings("TYPE").Count(s => s.Trim() == "transient"));
    }

    [Fact]
    public void The_same_seed_writes_the_same_pixels()
    {
        using var again = new TempDirectory();
        var spec = fixture.Spec with { Epochs = 2, TransientsPerField = 0, Filters = ["F184"] };
        var a = SurveySimulator.Generate(spec, again.File("a"));
        var b = SurveySimulator.Generate(spec, again.File("b"));
        Assert.Equal(FitsFile.ReadImage(a.Images[1].Path).Pixels, FitsFile.ReadImage(b.Images[1].Path).Pixels);
        Assert.Equal(File.ReadAllBytes(a.Images[1].TruthPath), File.ReadAllBytes(b.Images[1].TruthPath));
    }

    [Fact]
    public void An_output_path_that_is_a_file_is_refused_with_its_name()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("taken"), "not a directory");
        var ex = Assert.Throws<IOException>(() => SurveySimulator.Generate(fixture.Spec, dir.File("taken")));
        Assert.Contains(dir.File("taken"), ex.Message);
    }

    [Fact]
    public void Several_scas_of_one_exposure_share_its_time_and_pointing_and_sit_where_the_focal_plane_puts_them()
    {
        using var dir = new TempDirectory();
        var spec = fixture.Spec with { Epochs = 1, Filters = ["F184"], Scas = [1, 4, 2], TransientsPerField = 0, VariablesPerField = 0,
            StarsPerSquareArcmin = 2, GalaxiesPerSquareArcmin = 0 };
        var survey = SurveySimulator.Generate(spec, dir.Path);
        Assert.Equal([1, 4, 2], survey.Images.Select(i => i.Sca));
        Assert.Single(survey.Images.Select(i => (i.DateObsUtc, i.Pointing, i.RaTargDeg, i.DecTargDeg)).Distinct());
        Assert.Equal(3, survey.Images.Select(i => Path.GetFileName(i.Path)).Distinct().Count());
        var centres = survey.Images.Select(i =>
        {
            var h = FitsFile.ReadImage(i.Path).Header;
            Assert.Equal(i.Sca, h.GetLong("SCA_NUM"));
            return TanSipWcs.FromHeader(h, i.Path).PixelToSky(96.5, 96.5);
        }).ToList();
        double Arcmin((double Ra, double Dec) a, (double Ra, double Dec) b)
        {
            var (xi, eta) = SimulatedWcs.Project(a.Ra, a.Dec, b.Ra, b.Dec);
            return Math.Sqrt(xi * xi + eta * eta) * 180 / Math.PI * 60;
        }
        Assert.Equal(Math.Sqrt(8.3 * 8.3 + 1.7 * 1.7), Arcmin(centres[0], centres[1]), 2);    // next column, 1.7' lower on the arc
        Assert.Equal(8.0, Arcmin(centres[0], centres[2]), 2);    // next row up
    }

    [Fact]
    public void A_bad_spec_is_refused_with_a_message_naming_the_setting_and_writes_nothing()
    {
        using var dir = new TempDirectory();
        var ex = Assert.Throws<ArgumentException>(() => SurveySimulator.Generate(fixture.Spec with { Filters = ["F999"] }, dir.File("x")));
        Assert.Contains("F999", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => SurveySimulator.Generate(fixture.Spec with { FieldCentres = [] }, dir.File("x")));
        Assert.Contains("FieldCentres", ex.Message);
        Assert.False(System.IO.Directory.Exists(dir.File("x")));
    }
}
