using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Tests.Support;

namespace Rapid.Pipeline.Tests.Jobs;

/// <summary>
/// Runs one science job (ppid 15) end to end through the entry point on a 256x256 synthetic field:
/// five shifted reference frames (one with a cosmic ray) co-added on the fly, a science frame with a
/// transient that is not in the reference and a star that vanished.
/// </summary>
public sealed class ScienceJobFixture : IAsyncLifetime
{
    public const int Size = 256;
    public const double TransientRate = 150; // DN/s

    public JobTestBed Bed { get; } = new();
    public SyntheticSurvey Survey { get; } = new(Size, starCount: 30, seed: 42);
    public SkyStar Transient { get; private set; } = null!;
    public SkyStar Vanished { get; private set; } = null!;
    public JobTestBed.Run Run { get; private set; } = null!;
    public JobConfig Config { get; private set; } = null!;
    public ScienceSpec Spec => Config.SpecAs<ScienceSpec>();
    /// <summary>Where a cosmic-ray track of the science frame starts (0-based array pixel; it runs 4 px in +x).</summary>
    public (int X, int Y) CosmicRay { get; private set; }

    public async Task InitializeAsync()
    {
        var centre = Survey.Wcs(0, 0);
        Vanished = Survey.Stars.OrderByDescending(s => s.Rate).First(s =>
        {
            var (x, y) = centre.SkyToPixel(s.RaDeg, s.DecDeg);
            return x > 30 && y > 30 && x < Size - 30 && y < Size - 30;
        });
        Transient = FreeSpot(centre);

        var inputs = new List<L2Image>();
        (double Dx, double Dy)[] shifts = [(0, 0), (2.3, -1.4), (-1.7, 2.2), (3.1, 2.9), (-2.6, -3.3)];
        for (var i = 0; i < shifts.Length; i++)
        {
            var path = Path.Combine(Bed.Scratch, $"ref{i}.fits");
            Survey.WriteFrame(path, shifts[i].Dx, shifts[i].Dy, seed: 100 + i, mjd: 61000 + i,
                cosmicRay: i == 1 ? (100, 120, 30000f) : null);
            var file = await Bed.UploadL2Async(path);
            inputs.Add(new L2Image { Rid = 10 + i, Fid = 2, Filter = "F158", Field = 7, MjdObs = 61000 + i, File = file, Md5 = FileChecksum.Of(path).Md5 });
        }
        var sciPath = Path.Combine(Bed.Scratch, "science.fits");
        var sciWcs = Survey.Wcs(0.4, -0.3);
        var (tx, ty) = sciWcs.SkyToPixel(Transient.RaDeg, Transient.DecDeg);
        CosmicRay = Enumerable.Range(0, 40).Select(k => (X: Size - 40 - 5 * (k % 8), Y: Size - 40 - 5 * (k / 8)))
            .First(p => Math.Abs(p.X + 1 - tx) > 20 && Survey.Stars.All(s => { var (sx, sy) = sciWcs.SkyToPixel(s.RaDeg, s.DecDeg); return Math.Abs(sx - 1 - p.X) > 15 || Math.Abs(sy - 1 - p.Y) > 15; }));
        Survey.WriteFrame(sciPath, 0.4, -0.3, seed: 999, mjd: 61010, extra: [Transient], without: Vanished, cosmicRay: (CosmicRay.X, CosmicRay.Y, 20000f));
        var science = new L2Image { Rid = 99, Fid = 2, Filter = "F158", Field = 7, MjdObs = 61010, File = await Bed.UploadL2Async(sciPath) };

        Config = new JobConfig
        {
            Jid = 501,
            ProcDate = Bed.ProcDate.ToString(),
            Spec = new ScienceSpec
            {
                Science = science,
                Tile = new TileGrid { Field = 7, CenterRaDeg = SyntheticSurvey.RaDeg, CenterDecDeg = SyntheticSurvey.DecDeg, Naxis1 = Size, Naxis2 = Size, PixelScaleArcsec = SyntheticSurvey.PixelScaleArcsec },
                Reference = new ReferenceSource { Inputs = inputs },
            },
        };
        Run = await Bed.RunAsync(Config);
    }

    private SkyStar FreeSpot(Rapid.Pipeline.Wcs.TanSipWcs centre)
    {
        for (var y = 40.0; y < Size - 40; y += 7)
            for (var x = 40.0; x < Size - 40; x += 7)
            {
                var clear = Survey.Stars.All(s => { var (sx, sy) = centre.SkyToPixel(s.RaDeg, s.DecDeg); return Math.Abs(sx - x) > 15 || Math.Abs(sy - y) > 15; });
                if (!clear) continue;
                var (ra, dec) = centre.PixelToSky(x, y);
                return new SkyStar(ra, dec, TransientRate);
            }
        throw new InvalidOperationException("no free spot for the transient");
    }

    public Task DisposeAsync()
    {
        Bed.Dispose();
        return Task.CompletedTask;
    }
}

public class ScienceJobTests(ScienceJobFixture fixture) : IClassFixture<ScienceJobFixture>
{
    private JobTestBed.Run Run => fixture.Run;

    private static ScienceOutcome Outcome(ProductManifest? manifest) => Assert.IsType<ScienceOutcome>(manifest?.Outcome);

    [Fact]
    public void Succeeds_and_writes_a_manifest_with_every_product()
    {
        Assert.True(Run.ExitCode == ExitCodes.Success, $"exit {Run.ExitCode}: {Run.Manifest?.Reason} {Run.Errors}");
        var manifest = Assert.IsType<ProductManifest>(Run.Manifest);
        Assert.Equal(Run.ExitCode, manifest.ExitCode);
        string[] expected =
        [
            ProductRoles.DifferenceImage, ProductRoles.DifferenceUncertainty, ProductRoles.DifferenceCatalog, ProductRoles.ResampledReference,
            ProductRoles.ScoreImage, ProductRoles.DifferencePsf,
            ProductRoles.ReferenceImage, ProductRoles.ReferenceCoverage, ProductRoles.ReferenceUncertainty, ProductRoles.ReferenceCatalog,
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), manifest.Products.Select(p => p.Role).Order(StringComparer.Ordinal));
        foreach (var product in manifest.Products)
        {
            Assert.StartsWith($"{fixture.Bed.ProcDate}/jid501/", product.File.Key);
            Assert.Equal(product.Checksum, FileChecksum.Of(fixture.Bed.PathOf(product.File)));
        }
        foreach (var step in new[] { "psf", "zogy", "detection" }) Assert.Contains(step, manifest.StepTotals().Select(t => t.Name));
        Assert.False(string.IsNullOrEmpty(manifest.Software.Version));
        Assert.Equal(64, manifest.ConfigSha256.Length);
    }

    [Fact]
    public void Records_the_reference_inputs_and_the_difference_statistics()
    {
        var manifest = Run.Manifest!;
        var reference = Assert.IsType<ReferenceImageResult>(Outcome(manifest).CoaddedReference);
        Assert.Equal([10L, 11, 12, 13, 14], reference.InputRids);
        Assert.Equal(5, reference.NFrames);
        var diff = Outcome(manifest).Difference;
        Assert.Equal(99, diff.Rid);
        Assert.Null(diff.Rfid);
        Assert.InRange(diff.ScaleFactor, 0.97, 1.03);
        // The reference is resampled onto the science grid, so matched stars agree to a small fraction of a pixel.
        Assert.InRange(diff.DxMedian, -0.05, 0.05);
        Assert.InRange(diff.DyMedian, -0.05, 0.05);
        Assert.InRange(diff.DxRms, 0, 0.15);
        Assert.InRange(diff.BackgroundScience, SyntheticSurvey.SkyRate * 0.95, SyntheticSurvey.SkyRate * 1.05);
        Assert.Equal(10, diff.CornersRaDec.Count);
    }

    [Fact]
    public void Detects_the_transient_positive_with_its_flux()
    {
        var source = Closest(fixture.Transient);
        Assert.Equal(1, source.Sign);
        Assert.True(source.Distance < 1.0, $"closest detection {source.Distance:F2} px away");
        Assert.InRange(source.Flux, ScienceJobFixture.TransientRate * 0.95, ScienceJobFixture.TransientRate * 1.05);
        Assert.True(source.FluxErr > 0 && source.Snr > 20);
    }

    [Fact]
    public void Detects_the_vanished_star_negative()
    {
        var source = Closest(fixture.Vanished);
        Assert.Equal(-1, source.Sign);
        Assert.True(source.Distance < 1.0, $"closest detection {source.Distance:F2} px away");
        Assert.InRange(-source.Flux, fixture.Vanished.Rate * 0.85, fixture.Vanished.Rate * 1.15);
    }

    [Fact]
    public void Rejects_a_cosmic_ray_track_in_the_science_image()
    {
        var table = Catalog();
        double[] x = table.GetDoubles("X_IMAGE"), y = table.GetDoubles("Y_IMAGE");
        Assert.DoesNotContain(Enumerable.Range(0, x.Length), i => Math.Abs(x[i] - 1 - (fixture.CosmicRay.X + 1.5)) < 4 && Math.Abs(y[i] - 1 - fixture.CosmicRay.Y) < 3);
    }

    [Fact]
    public void Finds_few_spurious_sources()
    {
        var table = Catalog();
        Assert.InRange(table.RowCount, 2, 3);
        Assert.Equal(Outcome(Run.Manifest!).Difference.NSources, table.RowCount);
    }

    [Fact]
    public void Writes_a_catalog_with_the_documented_columns_and_coverage_figures_in_the_manifest()
    {
        var table = Catalog();
        foreach (var column in new[] { "ID", "X_IMAGE", "Y_IMAGE", "RA", "DEC", "FLUX", "FLUXERR", "SNR", "SIGN", "FLAGS" })
            Assert.Contains(column, table.ColumnNames);
        var source = Closest(fixture.Transient);
        var (ra, dec) = (fixture.Transient.RaDeg, fixture.Transient.DecDeg);
        var row = Enumerable.Range(0, table.RowCount).Single(i => table.GetDoubles("SNR")[i] == source.Snr);
        Assert.Equal(ra, table.GetDoubles("RA")[row], 0.5 / 3600 * SyntheticSurvey.PixelScaleArcsec * 2);
        Assert.Equal(dec, table.GetDoubles("DEC")[row], 0.5 / 3600 * SyntheticSurvey.PixelScaleArcsec * 2);
        var diff = Outcome(Run.Manifest!).Difference;
        // Five dithered frames of the same size as the science image: the median pixel is covered by all of them,
        // and the frame edges outside the overlap are masked.
        Assert.InRange(diff.CoverageMedian, 4.95, 5.0);
        Assert.InRange(diff.MaskedFraction, 0.0, 0.1);
    }

    [Fact]
    public void Every_product_passes_fitsverify()
    {
        foreach (var product in Run.Manifest!.Products)
            FitsVerify.AssertValid(fixture.Bed.PathOf(product.File));
    }

    [Fact]
    public async Task Uploads_a_log_that_ends_with_the_exit_code()
    {
        var log = System.Text.Encoding.UTF8.GetString(await fixture.Bed.Store.GetBytesAsync(fixture.Bed.Keys.Log(fixture.Bed.ProcDate, 501)));
        Assert.Contains("step zogy: done in", log);
        Assert.Contains("terminating exit code 0", log);
    }

    [Fact]
    public async Task Fake_sources_on_an_image_without_a_zero_point_are_a_warning_and_the_job_still_subtracts()
    {
        var run = await fixture.Bed.RunAsync(fixture.Config with { Jid = 503, Spec = fixture.Spec with { FakeSources = new FakeSourcesConfig { Count = 10 } } });

        Assert.Equal(ExitCodes.Degraded, run.ExitCode);
        Assert.Contains(run.Manifest!.Warnings, w => w.Kind == JobWarningKind.FakeSources && w.Message.Contains("ZPTMAG", StringComparison.Ordinal));
        Assert.Null(Outcome(run.Manifest).InjectionRecovery);
        Assert.NotNull(Outcome(run.Manifest).Difference);
        Assert.DoesNotContain(run.Manifest.Products, p => p.Role == ProductRoles.InjectionRecovery);
    }

    [Fact]
    public async Task Fake_sources_are_measured_but_never_reach_the_delivered_products()
    {
        // The fixture's science frame with a zero point (fakes need one to turn magnitudes into fluxes), run without and
        // with 30 fakes: every delivered image and the catalog must be the same, and only the recovery table knows them.
        var path = Path.Combine(fixture.Bed.Scratch, "science_zp.fits");
        fixture.Survey.WriteFrame(path, 0.4, -0.3, seed: 999, mjd: 61010, extra: [fixture.Transient], without: fixture.Vanished,
            cosmicRay: (fixture.CosmicRay.X, fixture.CosmicRay.Y, 20000f), zeroPoint: 26.0);
        var science = fixture.Spec.Science with { File = await fixture.Bed.UploadL2Async(path) };
        var plain = await fixture.Bed.RunAsync(fixture.Config with { Jid = 504, Spec = fixture.Spec with { Science = science } });
        var faked = await fixture.Bed.RunAsync(fixture.Config with
        {
            Jid = 505, Spec = fixture.Spec with { Science = science, FakeSources = new FakeSourcesConfig { Count = 30, Seed = 7 } },
        });
        Assert.True(plain.ExitCode == ExitCodes.Success, $"exit {plain.ExitCode}: {plain.Manifest?.Reason} {plain.Errors}");
        Assert.True(faked.ExitCode == ExitCodes.Success, $"exit {faked.ExitCode}: {faked.Manifest?.Reason} {faked.Errors}");

        string Product(JobTestBed.Run run, string role) => fixture.Bed.PathOf(run.Manifest!.Products.Single(p => p.Role == role).File);
        foreach (var role in new[] { ProductRoles.DifferenceImage, ProductRoles.DifferenceUncertainty, ProductRoles.ScoreImage, ProductRoles.ResampledReference })
            Assert.True(FitsFile.ReadImage(Product(plain, role)).Pixels.SequenceEqual(FitsFile.ReadImage(Product(faked, role)).Pixels), $"{role} differs with fakes");
        var (a, b) = (FitsFile.ReadTable(Product(plain, ProductRoles.DifferenceCatalog), "SOURCES"), FitsFile.ReadTable(Product(faked, ProductRoles.DifferenceCatalog), "SOURCES"));
        Assert.Equal(a.RowCount, b.RowCount);
        // Equal to 1e-9: the error terms' parallel sums may add in another order from run to run (last-bit differences,
        // 5e-15 relative measured), while a fake's light would move a row by far more.
        foreach (var column in new[] { "X_IMAGE", "Y_IMAGE", "FLUX", "FLUXERR", "SNR" })
            Assert.All(a.GetDoubles(column).Zip(b.GetDoubles(column)), p => Assert.Equal(p.First, p.Second, 1e-9 * Math.Abs(p.First)));
        Assert.DoesNotContain(plain.Manifest!.Products, p => p.Role == ProductRoles.InjectionRecovery);

        // What the fakes gave, measured on windows of ZOGY's inputs: the bright ones (2.5 mag above the 5-sigma limit at
        // the bright end) are found with their flux.
        var recovery = Assert.IsType<InjectionRecoveryResult>(Outcome(faked.Manifest).InjectionRecovery);
        Assert.Equal(30, recovery.Fakes.Injected);
        var table = FitsFile.ReadTable(Product(faked, ProductRoles.InjectionRecovery), "RECOVERY");
        var kinds = table.GetStrings("KIND");
        var (mags, found, flux, injected) = (table.GetDoubles("MAG"), table.GetLongs("FOUND"), table.GetDoubles("FLUX_OUT"), table.GetDoubles("FLUX_IN"));
        var bright = Enumerable.Range(0, table.RowCount).Where(i => kinds[i] == "fake" && mags[i] < recovery.MagLimit - 1.5).ToList();
        Assert.NotEmpty(bright);
        Assert.All(bright, i => Assert.True(found[i] == 1, $"fake {i} of mag {mags[i]:F2} (limit {recovery.MagLimit:F2}) was not found"));
        Assert.InRange(bright.Select(i => flux[i] / injected[i]).Order().ElementAt(bright.Count / 2), 0.9, 1.1);
    }

    [Fact]
    public async Task Uses_a_registered_reference_and_records_its_rfid()
    {
        ObjectRef Product(string role) => Run.Manifest!.Products.Single(p => p.Role == role).File;
        var config = fixture.Config with
        {
            Jid = 503,
            Spec = fixture.Spec with
            {
                Reference = new ReferenceSource
                {
                    Rfid = 8, Version = 1,
                    Image = Product(ProductRoles.ReferenceImage),
                    Coverage = Product(ProductRoles.ReferenceCoverage),
                    Uncertainty = Product(ProductRoles.ReferenceUncertainty),
                },
            },
        };

        var run = await fixture.Bed.RunAsync(config);

        Assert.True(run.ExitCode == ExitCodes.Success, $"exit {run.ExitCode}: {run.Manifest?.Reason}");
        Assert.Equal(8, Outcome(run.Manifest!).Difference.Rfid);
        Assert.Null(Outcome(run.Manifest).CoaddedReference);
        Assert.DoesNotContain(run.Manifest!.Products, p => p.Role == ProductRoles.ReferenceImage);
        Assert.Equal(Outcome(Run.Manifest!).Difference.NSources, Outcome(run.Manifest).Difference.NSources);
        var diff = FitsFile.ReadImage(fixture.Bed.PathOf(run.Manifest.Products.Single(p => p.Role == ProductRoles.DifferenceImage).File));
        Assert.Equal(8, diff.Header.GetLong("RFID"));
    }

    [Fact]
    public async Task Without_stars_to_match_ends_degraded_with_a_warning()
    {
        using var bed = new JobTestBed();
        var empty = new SyntheticSurvey(64, starCount: 0, seed: 1);
        var inputs = new List<L2Image>();
        for (var i = 0; i < 3; i++)
        {
            var path = Path.Combine(bed.Scratch, $"e{i}.fits");
            empty.WriteFrame(path, 0.3 * i, 0, seed: i, mjd: 60000 + i);
            inputs.Add(new L2Image { Rid = i + 1, File = await bed.UploadL2Async(path) });
        }
        var sci = Path.Combine(bed.Scratch, "esci.fits");
        empty.WriteFrame(sci, 0, 0, seed: 9, mjd: 60010);

        var run = await bed.RunAsync(new JobConfig
        {
            Jid = 502, ProcDate = bed.ProcDate.ToString(),
            Spec = new ScienceSpec { Science = new L2Image { Rid = 5, File = await bed.UploadL2Async(sci) }, Reference = new ReferenceSource { Inputs = inputs } },
        });

        Assert.Equal(ExitCodes.Degraded, run.ExitCode);
        Assert.Contains(run.Manifest!.Warnings, w => w.Kind == JobWarningKind.FluxScale && w.Message.StartsWith("flux matching: only 0 star(s) measured the flux scale", StringComparison.Ordinal));
        Assert.Equal(1.0, Outcome(run.Manifest).Difference.ScaleFactor);
        Assert.Contains(run.Manifest.Warnings, w => w.Kind == JobWarningKind.Psf && w.Message.StartsWith("psf: the science PSF is a GaussianFromDefault fallback", StringComparison.Ordinal));
        Assert.Contains(run.Manifest.Products, p => p.Role == ProductRoles.DifferenceImage);
    }

    [Fact]
    public async Task Psf_files_in_the_config_replace_the_estimated_psfs_and_an_unusable_one_is_named()
    {
        var given = Path.Combine(fixture.Bed.Scratch, "given_psf.fits");
        FitsFile.WriteImage(given, new FitsImage(15, 15, PsfModelStamp(fwhm: 3.0, size: 15)));
        var blank = Path.Combine(fixture.Bed.Scratch, "blank_psf.fits");
        FitsFile.WriteImage(blank, new FitsImage(15, 15, new float[15 * 15]));
        var (givenRef, blankRef) = (await fixture.Bed.UploadL2Async(given), await fixture.Bed.UploadL2Async(blank));

        var run = await fixture.Bed.RunAsync(fixture.Config with
        {
            Jid = 511,
            Spec = fixture.Spec with { Science = fixture.Spec.Science with { Psf = givenRef }, Reference = fixture.Spec.Reference with { Psf = givenRef } },
        });
        var bad = await fixture.Bed.RunAsync(fixture.Config with { Jid = 512, Spec = fixture.Spec with { Science = fixture.Spec.Science with { Psf = blankRef } } });

        Assert.True(run.ExitCode == ExitCodes.Success, $"exit {run.ExitCode}: {run.Manifest?.Reason}");
        Assert.Equal(3.0, Outcome(run.Manifest!).Difference.FwhmScience, 0.15);
        Assert.Equal(3.0, Outcome(run.Manifest).Difference.FwhmReference, 0.15);
        Assert.Equal(ExitCodes.InvalidInput, bad.ExitCode);
        Assert.Contains("blank_psf.fits", bad.Manifest!.Reason);
        Assert.DoesNotContain(bad.Manifest.Products, p => p.Role == ProductRoles.DifferenceImage);
    }

    private static float[] PsfModelStamp(double fwhm, int size)
    {
        var psf = Rapid.Pipeline.Psf.PsfModel.Gaussian(fwhm, size);
        return psf.Stamp.ToArray().Select(v => (float)v).ToArray();
    }

    [Fact]
    public async Task A_reference_covering_less_than_half_of_the_science_image_ends_degraded_with_a_warning()
    {
        using var bed = new JobTestBed();
        var field = new SyntheticSurvey(128, starCount: 12, seed: 3);
        var inputs = new List<L2Image>();
        for (var i = 0; i < 3; i++)
        {
            // Shifted by 90 px of 128: the frames overlap the science image in a 38 px wide strip.
            var path = Path.Combine(bed.Scratch, $"h{i}.fits");
            field.WriteFrame(path, 90 + 0.4 * i, 0.3 * i, seed: 40 + i, mjd: 60000 + i);
            inputs.Add(new L2Image { Rid = i + 1, File = await bed.UploadL2Async(path) });
        }
        var sci = Path.Combine(bed.Scratch, "hsci.fits");
        field.WriteFrame(sci, 0, 0, seed: 50, mjd: 60010);

        var run = await bed.RunAsync(new JobConfig
        {
            Jid = 504, ProcDate = bed.ProcDate.ToString(),
            Spec = new ScienceSpec { Science = new L2Image { Rid = 7, File = await bed.UploadL2Async(sci) }, Reference = new ReferenceSource { Inputs = inputs } },
        });

        Assert.True(run.ExitCode == ExitCodes.Degraded, $"exit {run.ExitCode}: {run.Manifest?.Reason} {string.Join("; ", run.Manifest?.Warnings.Select(w => w.Message) ?? [])}");
        Assert.Contains(run.Manifest!.Warnings, w => w.Kind == JobWarningKind.Coverage && w.Message.StartsWith("coverage: ", StringComparison.Ordinal));
        Assert.InRange(Outcome(run.Manifest).Difference.MaskedFraction, 0.5, 0.8);
        Assert.Contains(run.Manifest.Products, p => p.Role == ProductRoles.DifferenceImage);
    }

    [Fact]
    public async Task A_constant_star_field_yields_no_detections_and_a_normalised_score()
    {
        using var bed = new JobTestBed();
        var field = new SyntheticSurvey(ScienceJobFixture.Size, starCount: 30, seed: 7);
        var inputs = new List<L2Image>();
        (double Dx, double Dy)[] shifts = [(0, 0), (1.6, -2.1), (-2.4, 1.3)];
        for (var i = 0; i < shifts.Length; i++)
        {
            var path = Path.Combine(bed.Scratch, $"c{i}.fits");
            field.WriteFrame(path, shifts[i].Dx, shifts[i].Dy, seed: 200 + i, mjd: 60000 + i);
            inputs.Add(new L2Image { Rid = i + 1, File = await bed.UploadL2Async(path) });
        }
        var sci = Path.Combine(bed.Scratch, "csci.fits");
        field.WriteFrame(sci, 0.7, 0.2, seed: 300, mjd: 60010);

        var run = await bed.RunAsync(new JobConfig
        {
            Jid = 503, ProcDate = bed.ProcDate.ToString(),
            Spec = new ScienceSpec { Science = new L2Image { Rid = 6, File = await bed.UploadL2Async(sci) }, Reference = new ReferenceSource { Inputs = inputs } },
        });

        Assert.True(run.ExitCode == ExitCodes.Success, $"exit {run.ExitCode}: {run.Manifest?.Reason}");
        Assert.InRange(Outcome(run.Manifest!).Difference.NSources, 0, 1);
        var scorr = FitsFile.ReadImage(bed.PathOf(run.Manifest!.Products.Single(p => p.Role == ProductRoles.ScoreImage).File)).Pixels.Where(float.IsFinite).ToArray();
        var mean = scorr.Average(v => (double)v);
        var rms = Math.Sqrt(scorr.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -0.05, 0.05);
        Assert.InRange(rms, 0.9, 1.1);
    }

    [Fact]
    public void Writes_the_difference_psf_normalised_and_the_difference_in_science_units()
    {
        var psf = FitsFile.ReadImage(fixture.Bed.PathOf(Run.Manifest!.Products.Single(p => p.Role == ProductRoles.DifferencePsf).File));
        Assert.Equal(psf.Width, psf.Height);
        Assert.InRange(psf.Pixels.Sum(v => (double)v), 0.999, 1.001);
        Assert.Equal(psf.Pixels.Max(), psf.Pixels[psf.Height / 2 * psf.Width + psf.Width / 2]);
        var diff = FitsFile.ReadImage(fixture.Bed.PathOf(Run.Manifest.Products.Single(p => p.Role == ProductRoles.DifferenceImage).File));
        var uncert = FitsFile.ReadImage(fixture.Bed.PathOf(Run.Manifest.Products.Single(p => p.Role == ProductRoles.DifferenceUncertainty).File));
        Assert.Equal("adu/s", diff.Header.GetString("BUNIT"));
        // Away from stars D / F_D has a per-pixel sigma of 1 / F_D, which the uncertainty image states there (within 2 %: source noise).
        var fd = diff.Header.GetDouble("ZOGYFD")!.Value;
        Assert.Equal(1 / fd, RobustStatistics.Median(uncert.Pixels.Where(float.IsFinite).ToArray()), 0.02 / fd);
        Assert.InRange(RobustStatistics.SigmaClip(diff.Pixels).Sigma * fd, 0.9, 1.1);
    }

    private FitsTable Catalog() =>
        FitsFile.ReadTable(fixture.Bed.PathOf(Run.Manifest!.Products.Single(p => p.Role == ProductRoles.DifferenceCatalog).File), "SOURCES");

    private sealed record Found(double Distance, double Flux, double FluxErr, double Snr, long Sign);

    private Found Closest(SkyStar star)
    {
        var table = Catalog();
        var sciWcs = fixture.Survey.Wcs(0.4, -0.3);
        var (ex, ey) = sciWcs.SkyToPixel(star.RaDeg, star.DecDeg);
        double[] x = table.GetDoubles("X_IMAGE"), y = table.GetDoubles("Y_IMAGE"), flux = table.GetDoubles("FLUX"), err = table.GetDoubles("FLUXERR"), snr = table.GetDoubles("SNR");
        var sign = table.GetLongs("SIGN");
        Assert.True(x.Length > 0, "no sources");
        var best = Enumerable.Range(0, x.Length).MinBy(i => Math.Pow(x[i] - ex, 2) + Math.Pow(y[i] - ey, 2));
        return new Found(Math.Sqrt(Math.Pow(x[best] - ex, 2) + Math.Pow(y[best] - ey, 2)), flux[best], err[best], snr[best], sign[best]);
    }
}
