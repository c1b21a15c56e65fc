using System.Security.Cryptography;
using Rapid.Cli.Commands;
using Rapid.Cli.Diff;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Jobs;
using Rapid.Pipeline.Fits;

namespace Rapid.Cli.Tests.Diff;

/// <summary><c>rapid diff</c> on small simulated images: both forms, every kind of bad input, and the all-or-nothing outdir.</summary>
[Collection(ConsoleCaptureCollection.Name)]
public sealed class DiffCommandTests(DiffCommandTests.Inputs inputs) : IClassFixture<DiffCommandTests.Inputs>
{
    /// <summary>The simulated images, and one co-added run whose products the reference-image tests reuse.</summary>
    public sealed class Inputs : IAsyncLifetime
    {
        public DiffInputs Files { get; } = new();
        public string CoaddOut { get; private set; } = "";
        public (int Code, string Output, string Error) CoaddRun { get; private set; }

        public async Task InitializeAsync()
        {
            CoaddOut = Files.NewOutDirectory();
            CoaddRun = await ConsoleCapture.InvokeAsync(["diff", "--science", Files.Science, "--reference", .. Files.References, "--out", CoaddOut]);
        }

        public Task DisposeAsync()
        {
            Files.Dispose();
            return Task.CompletedTask;
        }
    }

    private DiffInputs Files => inputs.Files;

    [Fact]
    public void Co_adding_the_reference_leaves_the_products_with_a_manifest_of_their_checksums()
    {
        var (code, output, error) = inputs.CoaddRun;

        Assert.True(code is ExitCodes.Success or ExitCodes.Degraded, $"exit {code}: {error}");
        foreach (var name in new[] { "diffimage.fits", "diffimage_uncert.fits", "refimage.fits", "refimage_cov.fits", "refimage_uncert.fits",
                     "refimage_resampled.fits", "sources.fits", "manifest.json", "diff.log" })
            Assert.True(File.Exists(Path.Combine(inputs.CoaddOut, name)), $"{name} is missing");
        var manifest = DiffJsonContext.Read(Path.Combine(inputs.CoaddOut, "manifest.json"));
        Assert.Equal(code, manifest.ExitCode);
        Assert.NotEmpty(manifest.Products);
        foreach (var p in manifest.Products)
        {
            var bytes = File.ReadAllBytes(Path.Combine(inputs.CoaddOut, p.File));
            Assert.Equal(p.SizeBytes, bytes.Length);
            Assert.Equal(p.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
        Assert.Equal(4, manifest.ReferenceImage!.NFrames);
        Assert.NotNull(manifest.DifferenceImage);
        Assert.Contains("reference.coadd", manifest.StepSeconds.Keys);
        Assert.True(manifest.PeakMemoryBytes > 0);
        Assert.Equal("science", manifest.Inputs.ReferenceGrid);
        var diff = FitsFile.ReadImage(Path.Combine(inputs.CoaddOut, "diffimage.fits"));
        Assert.Equal((DiffInputs.ImageSize, DiffInputs.ImageSize), (diff.Width, diff.Height));
        Assert.Contains("sources", output);
        Assert.Contains("flux scale", output);
        Assert.Contains("Time per step", output);
        Assert.Contains("reference.coadd", manifest.StepCpuSeconds.Keys);
        Assert.Empty(Files.Leftovers());
    }

    [Fact]
    public async Task An_existing_reference_image_with_its_maps_is_used_as_given()
    {
        var refDir = inputs.CoaddOut;
        var outDir = Files.NewOutDirectory();

        var (code, output, error) = await ConsoleCapture.InvokeAsync("diff", "--science", Files.Science,
            "--reference-image", Path.Combine(refDir, "refimage.fits"), "--reference-coverage", Path.Combine(refDir, "refimage_cov.fits"),
            "--reference-uncertainty", Path.Combine(refDir, "refimage_uncert.fits"), "--out", outDir, "--threshold", "6", "--set", "backgroundMeshSize=32");

        Assert.True(code is ExitCodes.Success or ExitCodes.Degraded, $"exit {code}: {error}");
        Assert.True(File.Exists(Path.Combine(outDir, "diffimage.fits")));
        Assert.True(File.Exists(Path.Combine(outDir, "refimage_resampled.fits")));
        Assert.False(File.Exists(Path.Combine(outDir, "refimage.fits")), "no reference was co-added");
        var manifest = DiffJsonContext.Read(Path.Combine(outDir, "manifest.json"));
        Assert.Null(manifest.ReferenceImage);
        Assert.Equal(6, manifest.Settings.DetectionThresholdSigma);
        Assert.Equal(32, manifest.Settings.BackgroundMeshSize);
        Assert.EndsWith("refimage.fits", manifest.Inputs.ReferenceImage);
        Assert.Contains("diffimage.fits", output);
        Assert.Empty(Files.Leftovers());
    }

    public static TheoryData<string, int, string> BadInputs => new()
    {
        { "not-fits", ExitCodes.InvalidInput, "not a FITS file" },
        { "no-wcs", ExitCodes.InvalidInput, "no usable WCS" },
        { "no-exptime", ExitCodes.InvalidInput, "EXPTIME is missing" },
        { "zero-exptime", ExitCodes.InvalidInput, "EXPTIME is 0" },
        { "all-nan", ExitCodes.InvalidInput, "no valid pixels" },
        { "missing", ExitCodes.InvalidInput, "no such file" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task A_bad_science_image_is_named_in_one_line_and_leaves_nothing(string kind, int expectedCode, string problem)
    {
        var bad = Path.Combine(Files.Directory, $"{kind}.fits");
        switch (kind)
        {
            case "not-fits": File.WriteAllText(bad, "this is a text file\n"); break;
            case "no-wcs": bad = Files.Spoiled(Files.Science, $"{kind}.fits", (h, _) => { h.Remove("CTYPE1"); h.Remove("CTYPE2"); }); break;
            case "no-exptime": bad = Files.Spoiled(Files.Science, $"{kind}.fits", (h, _) => h.Remove("EXPTIME")); break;
            case "zero-exptime": bad = Files.Spoiled(Files.Science, $"{kind}.fits", (h, _) => h.Set("EXPTIME", 0.0)); break;
            case "all-nan": bad = Files.Spoiled(Files.Science, $"{kind}.fits", (_, p) => Array.Fill(p, float.NaN)); break;
        }
        var outDir = Files.NewOutDirectory();

        var (code, _, error) = await ConsoleCapture.InvokeAsync(["diff", "--science", bad, "--reference", .. Files.References, "--out", outDir]);

        Assert.Equal(expectedCode, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains(bad, error);
        Assert.Contains(problem, error);
        Assert.False(Directory.Exists(outDir), "nothing may be left in --out");
        Assert.Empty(Files.Leftovers());
    }

    [Fact]
    public async Task A_bad_reference_input_is_named()
    {
        var bad = Files.Spoiled(Files.References[1], "ref-no-exptime.fits", (h, _) => h.Remove("EXPTIME"));
        var outDir = Files.NewOutDirectory();

        var (code, _, error) = await ConsoleCapture.InvokeAsync("diff", "--science", Files.Science,
            "--reference", Files.References[0], bad, Files.References[2], "--out", outDir);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains(bad, error);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task References_that_do_not_overlap_the_science_image_end_with_exit_33_naming_them()
    {
        // One degree away: far beyond a 160-pixel (18") image.
        var moved = Files.References.Select((r, i) => Files.Spoiled(r, $"moved{i}.fits",
            (h, _) => h.Set("CRVAL2", h.GetDouble("CRVAL2")!.Value + 1.0))).ToList();
        var outDir = Files.NewOutDirectory();

        var (code, _, error) = await ConsoleCapture.InvokeAsync(["diff", "--science", Files.Science, "--reference", .. moved, "--out", outDir]);

        Assert.Equal(ExitCodes.NoReferenceImage, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("overlap", error);
        Assert.Contains(moved[0], error);
        Assert.False(Directory.Exists(outDir));
        Assert.Empty(Files.Leftovers());
    }

    [Fact]
    public async Task Too_few_reference_images_end_with_exit_33()
    {
        var outDir = Files.NewOutDirectory();

        var (code, _, error) = await ConsoleCapture.InvokeAsync("diff", "--science", Files.Science,
            "--reference", Files.References[0], Files.References[1], "--out", outDir);

        Assert.Equal(ExitCodes.NoReferenceImage, code);
        Assert.Contains("at least 3 needed", error);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task A_failed_run_leaves_an_existing_outdir_as_it_was()
    {
        var outDir = Directory.CreateDirectory(Files.NewOutDirectory()).FullName;
        var keep = Path.Combine(outDir, "notes.txt");
        File.WriteAllText(keep, "mine");
        var allNan = Files.Spoiled(Files.Science, "nan-for-overwrite.fits", (_, p) => Array.Fill(p, float.NaN));

        var (code, _, _) = await ConsoleCapture.InvokeAsync(["diff", "--science", allNan, "--reference", .. Files.References, "--out", outDir, "--overwrite"]);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(outDir).Select(Path.GetFileName));
        Assert.Equal("mine", File.ReadAllText(keep));
        Assert.Empty(Files.Leftovers());
    }

    [Fact]
    public async Task An_outdir_holding_files_is_replaced_only_with_overwrite()
    {
        var outDir = Directory.CreateDirectory(Files.NewOutDirectory()).FullName;
        File.WriteAllText(Path.Combine(outDir, "old.txt"), "old");
        string[] args = ["diff", "--science", Files.Science, "--reference-image", Path.Combine(inputs.CoaddOut, "refimage.fits"), "--out", outDir];

        var refused = await ConsoleCapture.InvokeAsync(args);
        var replaced = await ConsoleCapture.InvokeAsync([.. args, "--overwrite"]);

        Assert.Equal(CommandErrors.BadInput, refused.Code);
        Assert.Contains("--overwrite", refused.Error);
        Assert.True(replaced.Code is ExitCodes.Success or ExitCodes.Degraded, replaced.Error);
        Assert.False(File.Exists(Path.Combine(outDir, "old.txt")));
        Assert.True(File.Exists(Path.Combine(outDir, "diffimage.fits")));
        Assert.Empty(Files.Leftovers());
    }

    [Fact]
    public async Task Psf_files_are_checked_and_passed_to_the_job()
    {
        var psf = Path.Combine(Files.Directory, "psf.fits");
        var stamp = new float[15 * 15];
        for (var i = 0; i < stamp.Length; i++) stamp[i] = (float)Math.Exp(-(Math.Pow(i % 15 - 7, 2) + Math.Pow(i / 15 - 7, 2)) / 4.0);
        FitsFile.WriteImage(psf, new FitsImage(15, 15, stamp));
        var notFits = Path.Combine(Files.Directory, "psf.txt");
        File.WriteAllText(notFits, "not a psf");
        var reference = Path.Combine(inputs.CoaddOut, "refimage.fits");

        var bad = await ConsoleCapture.InvokeAsync("diff", "--science", Files.Science, "--reference-image", reference,
            "--reference-psf", notFits, "--out", Files.NewOutDirectory());
        var outDir = Files.NewOutDirectory();
        var good = await ConsoleCapture.InvokeAsync("diff", "--science", Files.Science, "--reference-image", reference,
            "--science-psf", psf, "--reference-psf", psf, "--out", outDir);

        Assert.Equal(ExitCodes.InvalidInput, bad.Code);
        Assert.Contains(notFits, bad.Error);
        Assert.True(good.Code is ExitCodes.Success or ExitCodes.Degraded, good.Error);
        var manifest = DiffJsonContext.Read(Path.Combine(outDir, "manifest.json"));
        Assert.Equal(psf, manifest.Inputs.SciencePsf);
        Assert.Equal(psf, manifest.Inputs.ReferencePsf);
    }

    [Theory]
    [InlineData("--reference-coverage", "go with --reference-image")]
    [InlineData("--set", "no such setting")]
    public async Task Inconsistent_options_are_bad_input(string option, string message)
    {
        var value = option == "--set" ? "noSuchThing=1" : Files.Science;
        var (code, _, error) = await ConsoleCapture.InvokeAsync(["diff", "--science", Files.Science, "--reference", .. Files.References,
            "--out", Files.NewOutDirectory(), option, value]);

        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Contains(message, error);
    }

    [Fact]
    public void Settings_overrides_reach_every_setting_by_its_json_name()
    {
        var s = PipelineSettingsOverrides.Apply(new(), ["detectionThresholdSigma=4.5", "MINREFERENCEINPUTS=5"]);

        Assert.Equal(4.5, s.DetectionThresholdSigma);
        Assert.Equal(5, s.MinReferenceInputs);
        Assert.Throws<ArgumentException>(() => PipelineSettingsOverrides.Apply(new(), ["minReferenceInputs=many"]));
        Assert.Contains("backgroundMeshSize=64", PipelineSettingsOverrides.Describe());
    }
}
