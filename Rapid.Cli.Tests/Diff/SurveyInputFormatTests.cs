using Rapid.Cli.Bench;
using Rapid.Cli.Bench.ImageSets;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Jobs;
using Rapid.Pipeline.Fits;

namespace Rapid.Cli.Tests.Diff;

/// <summary>
/// Issue 11's inputs as real surveys write them, every case a science image that astropy writes (not our FITS writer)
/// from one photutils-rendered image with a 5th-order focal-plane TAN-SIP (CRPIX far off the chip): the image in the
/// primary HDU or a SCI extension (keywords inherited from the primary header too), BITPIX 16/32/-32/-64 with
/// BZERO/BSCALE, gzip, NaN and BLANK pixels, the observation time, saturation, gain and read noise under their common
/// names, SIP with and without AP/BP. <c>rapid diff</c> runs each against the same existing reference. A case that works
/// gives the products the float primary-HDU image gives (to the quantisation of its integers); a case that cannot work
/// ends with exit 65 and one line naming the file and the keyword, and leaves nothing.
/// </summary>
[Collection(ConsoleCaptureCollection.Name)]
public sealed class SurveyInputFormatTests(SurveyInputFormatTests.Inputs inputs) : IClassFixture<SurveyInputFormatTests.Inputs>
{
    /// <summary>The rendered set, astropy's variants of its science image, the reference co-added once and the baseline run against it.</summary>
    public sealed class Inputs : IAsyncLifetime
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("rapid-survey-inputs-").FullName;
        public ImageSet Set { get; private set; } = null!;
        public string Variants => Path.Combine(Root, "variants");
        public string ReferenceDirectory => Path.Combine(Root, "coadd");
        public string BaselineDirectory => Path.Combine(Root, "baseline");
        public (int Code, string Error) Baseline { get; private set; }

        public async Task InitializeAsync()
        {
            Set = await IndependentRenderer.RenderAsync(new ImageSetSpec
            {
                Renderer = ImageSetRenderers.Photutils, Seed = 51, Size = 192, References = 3, Transients = 30, Variables = 2,
                SaturatedStars = 1, SipOrder = 5, DitherPx = 20,
            }, Path.Combine(Root, "set"));
            Directory.CreateDirectory(Variants);
            var script = Path.Combine(Root, "variants.py");
            await File.WriteAllTextAsync(script, VariantScript);
            var run = await ChildProcess.RunAsync(IndependentRenderer.Python, [script, Set.Science, Variants]);
            if (run.ExitCode != 0) throw new InvalidOperationException($"astropy could not write the variants: {run.ErrorTail}");
            var coadd = await ConsoleCapture.InvokeAsync(["diff", "--science", Set.Science, "--reference", .. Set.References, "--out", ReferenceDirectory]);
            if (coadd.Code is not (ExitCodes.Success or ExitCodes.Degraded)) throw new InvalidOperationException($"co-adding the reference: exit {coadd.Code}: {coadd.Error}");
            var baseline = await RunAsync(Path.Combine(Variants, "primary-float32.fits"), BaselineDirectory);
            Baseline = (baseline.Code, baseline.Error);
        }

        public async Task<(int Code, string Output, string Error)> RunAsync(string science, string outDirectory) =>
            await ConsoleCapture.InvokeAsync(["diff", "--science", science,
                "--reference-image", Path.Combine(ReferenceDirectory, "refimage.fits"),
                "--reference-coverage", Path.Combine(ReferenceDirectory, "refimage_cov.fits"),
                "--reference-uncertainty", Path.Combine(ReferenceDirectory, "refimage_uncert.fits"),
                "--out", outDirectory]);

        public Task DisposeAsync()
        {
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// How far a working case's products may stray from the baseline's, as the rms of the pixel differences over the rms
    /// of the baseline's pixels: 1e-5 where the pixels are the same numbers, more where integers quantise them (a
    /// BSCALE-2 int16 adds 0.58 DN rms to a ~10 DN noise) or where masked pixels change the background meshes around them.
    /// </summary>
    private const double Same = 1e-5, Quantised = 0.1, Masked = 0.05;

    public static TheoryData<string, double> Working => new()
    {
        { "sci-extension.fits", Same },            // an empty primary HDU, a DQ image extension, then SCI
        { "sci-extension-inherit.fits", Same },    // EXPTIME, MJD-OBS, GAIN, ... only in the primary header; INHERIT = T
        { "float64.fits", Same },                  // BITPIX -64
        { "uint16-bzero.fits", Quantised },        // BITPIX 16, BZERO 32768: unsigned 16-bit counts
        { "int16-bscale.fits", Quantised },        // BITPIX 16, BSCALE 2, BZERO 2000
        { "int32-bscale.fits", Quantised },        // BITPIX 32, BSCALE 0.01, BZERO 30000
        { "gzip.fits.gz", Same },
        { "date-obs-tai.fits", Same },             // DATE-OBS with TIMESYS = 'TAI', no MJD-OBS
        { "date-obs-utc.fits", Same },             // DATE-OBS alone (UTC)
        { "obsmjd.fits", Same },
        { "expstart.fits", Same },
        { "survey-names.fits", Same },             // SATURVAL, EGAIN, READNOI
        { "other-names.fits", Same },              // SATLEVEL, READNOIS
        { "sip5-ap-bp.fits", Same },               // the 5th-order SIP with a fitted AP/BP inverse
    };

    [Theory]
    [MemberData(nameof(Working))]
    public async Task A_survey_image_gives_the_products_of_the_float_primary_image(string file, double tolerance)
    {
        Assert.True(inputs.Baseline.Code is ExitCodes.Success or ExitCodes.Degraded, $"baseline: exit {inputs.Baseline.Code}: {inputs.Baseline.Error}");
        var outDir = Path.Combine(inputs.Root, "out-" + file);

        var (code, _, error) = await inputs.RunAsync(Path.Combine(inputs.Variants, file), outDir);

        Assert.True(code == inputs.Baseline.Code, $"exit {code} (baseline {inputs.Baseline.Code}): {error}");
        foreach (var product in new[] { "diffimage.fits", "scorr.fits", "diffimage_uncert.fits" })
        {
            var (expected, actual) = (Pixels(inputs.BaselineDirectory, product), Pixels(outDir, product));
            Assert.Equal(expected.Select(float.IsNaN), actual.Select(float.IsNaN));
            var relative = RmsDifference(expected, actual);
            Assert.True(relative <= tolerance, $"{product}: rms difference {relative:G3} of the baseline's rms (allowed {tolerance})");
        }
        var mjd = FitsFile.ReadImage(Path.Combine(outDir, "diffimage.fits")).Header.GetDouble("MJD-OBS")!.Value;
        Assert.Equal(FitsFile.ReadPrimaryHeader(inputs.Set.Science).GetDouble("MJD-OBS")!.Value, mjd, 6);   // DATE-OBS carries the time to the millisecond
    }

    [Theory]
    [InlineData("nan-pixels.fits", Masked)]                 // NaN in a float image: a 12 x 12 block and a bad column
    [InlineData("blank-int32.fits", Masked + Quantised)]    // BLANK = -2147483648 in a BITPIX 32 image of whole DN, the same pixels
    [InlineData("blank-uint16.fits", Masked + Quantised)]   // BLANK = -32768 in a BZERO-32768 BITPIX 16 image, the same pixels
    public async Task Blank_pixels_are_masked_in_the_products_and_the_rest_is_unchanged(string file, double tolerance)
    {
        var outDir = Path.Combine(inputs.Root, "out-" + file);

        var (code, _, error) = await inputs.RunAsync(Path.Combine(inputs.Variants, file), outDir);

        Assert.True(code == inputs.Baseline.Code, $"exit {code} (baseline {inputs.Baseline.Code}): {error}");
        var width = inputs.Set.Width;
        bool Blank(int i) => (i / width is >= 20 and < 32 && i % width is >= 40 and < 52) || i % width == 150;
        var (expected, actual) = (Pixels(inputs.BaselineDirectory, "diffimage.fits"), Pixels(outDir, "diffimage.fits"));
        Assert.All(Enumerable.Range(0, actual.Length).Where(Blank), i => Assert.True(float.IsNaN(actual[i]), $"pixel ({i % width}, {i / width}) = {actual[i]} is not masked"));
        var kept = Enumerable.Range(0, actual.Length).Where(i => !Blank(i)).ToArray();
        var relative = RmsDifference([.. kept.Select(i => expected[i])], [.. kept.Select(i => actual[i])]);
        Assert.True(relative <= tolerance, $"diffimage: rms difference {relative:G3} of the baseline's rms away from the blank pixels (allowed {tolerance})");
    }

    public static TheoryData<string, string> Failing => new()
    {
        { "no-time.fits", "MJD-OBS" },                // no MJD-OBS, DATE-OBS or named alternative
        { "bad-date-obs.fits", "DATE-OBS" },          // '07/09/28'
        { "bad-timesys.fits", "TIMESYS" },            // 'MARS'
        { "no-exptime.fits", "EXPTIME" },
        { "zero-egain.fits", "EGAIN" },               // 0
        { "text-saturval.fits", "SATURVAL" },         // 'high'
        { "negative-readnoi.fits", "READNOI" },       // -1
        { "zpn-projection.fits", "CTYPE1" },          // RA---ZPN
        { "sip-without-order.fits", "A_ORDER" },      // -SIP with A_p_q but no A_ORDER
        { "ap-without-bp.fits", "BP_ORDER" },         // AP given, BP dropped
        { "singular-cd.fits", "CD1_1" },              // a CD matrix with a zero row
        { "cube.fits", "NAXIS" },                     // NAXIS = 3
    };

    [Theory]
    [MemberData(nameof(Failing))]
    public async Task An_unusable_survey_image_ends_with_exit_65_and_one_line_naming_the_file_and_the_keyword(string file, string keyword)
    {
        var science = Path.Combine(inputs.Variants, file);
        var outDir = Path.Combine(inputs.Root, "out-" + file);

        var (code, _, error) = await inputs.RunAsync(science, outDir);

        Assert.Equal(ExitCodes.InvalidInput, code);
        var line = Assert.Single(error.Trim().Split('\n'));
        Assert.Contains(science, line);
        Assert.Contains(keyword, line);
        Assert.False(Directory.Exists(outDir), "nothing may be left in --out");
    }

    [Theory]
    [InlineData("tan.fits")]               // TAN, no distortion
    [InlineData("primary-float32.fits")]   // TAN-SIP of order 5, ~100 px over the chip, no AP/BP: the inverse by iteration
    [InlineData("sip5-ap-bp.fits")]        // the same with AP/BP
    public void The_wcs_maps_pixels_to_the_sky_as_astropy_does_both_ways(string file)
    {
        var path = Path.Combine(inputs.Variants, file);
        var header = FitsFile.ReadImageInfo(path).Header;
        Assert.True(header.GetDouble("CRPIX1") < -1000, "CRPIX is off the chip");
        var wcs = Rapid.Pipeline.Wcs.TanSipWcs.FromHeader(header, path);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path + ".json"));
        double[] Column(string name) => [.. json.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetDouble())];
        var (x, y, ra, dec) = (Column("x"), Column("y"), Column("ra"), Column("dec"));
        var pixelDeg = wcs.PixelScaleArcsec / 3600;
        for (var i = 0; i < x.Length; i++)
        {
            var (r, d) = wcs.PixelToSky(x[i], y[i]);
            var offPixels = Math.Sqrt(Math.Pow((r - ra[i]) * Math.Cos(d * Math.PI / 180), 2) + Math.Pow(d - dec[i], 2)) / pixelDeg;
            Assert.True(offPixels < 1e-6, $"pixel ({x[i]}, {y[i]}): {offPixels:G3} px from astropy's sky position");
            var (px, py) = wcs.SkyToPixel(ra[i], dec[i]);
            Assert.True(Math.Abs(px - x[i]) < 1e-6 && Math.Abs(py - y[i]) < 1e-6, $"astropy's ({ra[i]}, {dec[i]}) maps to ({px}, {py}), not ({x[i]}, {y[i]})");
        }
    }

    private static float[] Pixels(string directory, string product) => FitsFile.ReadImage(Path.Combine(directory, product)).Pixels;

    private static double RmsDifference(float[] expected, float[] actual)
    {
        double d2 = 0, e2 = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            if (!float.IsFinite(expected[i]) || !float.IsFinite(actual[i])) continue;
            d2 += Math.Pow(actual[i] - expected[i], 2);
            e2 += (double)expected[i] * expected[i];
        }
        return Math.Sqrt(d2 / e2);
    }

    /// <summary>astropy writes every case from the rendered science image (argv: that image, the output folder).</summary>
    private const string VariantScript = """
        import json, sys, warnings
        import numpy as np
        from astropy.io import fits
        from astropy.time import Time
        from astropy.wcs import WCS, Sip
        warnings.simplefilter("ignore")

        src, out = sys.argv[1], sys.argv[2]
        with fits.open(src) as f:
            base = f[0].header.copy()
            data = f[0].data.astype(np.float64)
        for k in ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "BSCALE", "BZERO"):
            base.remove(k, ignore_missing=True)
        mjd = base["MJD-OBS"]
        tai = Time(mjd, format="mjd", scale="tai").isot
        utc = Time(mjd, format="mjd", scale="utc").isot


        def hdr(remove=(), **values):
            h = base.copy()
            for k in remove:
                h.remove(k, ignore_missing=True)
            for k, v in values.items():
                h[k.replace("__", "-")] = v
            return h


        def primary(name, pixels, h):
            fits.PrimaryHDU(pixels, header=h).writeto(f"{out}/{name}", overwrite=True)


        def f32():
            return data.astype(np.float32)


        def with_inverse(h):
            # AP/BP fitted by least squares so that they invert A/B over the chip, at the order of A/B.
            w = WCS(h)
            order = h["A_ORDER"]
            ys, xs = np.mgrid[0:data.shape[0]:6, 0:data.shape[1]:6]
            u = xs.ravel() + 1 - w.sip.crpix[0]
            v = ys.ravel() + 1 - w.sip.crpix[1]
            terms = [(p, q) for p in range(order + 1) for q in range(order + 1 - p)]
            fu = u + sum(w.sip.a[p, q] * u ** p * v ** q for p, q in terms)
            fv = v + sum(w.sip.b[p, q] * u ** p * v ** q for p, q in terms)
            m = np.array([fu ** p * fv ** q for p, q in terms]).T
            ap, bp = np.zeros((order + 1, order + 1)), np.zeros((order + 1, order + 1))
            for (p, q), ca, cb in zip(terms, np.linalg.lstsq(m, u - fu, rcond=None)[0], np.linalg.lstsq(m, v - fv, rcond=None)[0]):
                ap[p, q], bp[p, q] = ca, cb
            w.sip = Sip(w.sip.a, w.sip.b, ap, bp, w.sip.crpix)
            h = h.copy()
            h.extend(w.to_header(relax=True), update=True)
            return h


        def counts(pixels):
            return np.clip(np.round(pixels), 0, 65535).astype(np.uint16)


        def blanked(pixels, value):
            pixels[20:32, 40:52] = value
            pixels[:, 150] = value
            return pixels


        # Cases that work
        primary("primary-float32.fits", f32(), hdr())
        fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.zeros(data.shape, np.int16), name="DQ"),
                      fits.ImageHDU(f32(), header=hdr(), name="SCI")]).writeto(f"{out}/sci-extension.fits", overwrite=True)
        observation = ["EXPTIME", "MJD-OBS", "GAIN", "RDNOISE", "SATURATE", "FILTER", "ZPTMAG", "TELESCOP", "INSTRUME"]
        inherited = hdr(remove=observation)
        inherited["INHERIT"] = True
        fits.HDUList([fits.PrimaryHDU(header=fits.Header([(k, base[k]) for k in observation])),
                      fits.ImageHDU(f32(), header=inherited, name="SCI")]).writeto(f"{out}/sci-extension-inherit.fits", overwrite=True)
        primary("float64.fits", data, hdr())
        fits.PrimaryHDU(counts(data), header=hdr()).writeto(f"{out}/uint16-bzero.fits", overwrite=True)
        scaled = fits.PrimaryHDU(f32(), header=hdr())
        scaled.scale("int16", bscale=2.0, bzero=2000.0)
        scaled.writeto(f"{out}/int16-bscale.fits", overwrite=True)
        scaled = fits.PrimaryHDU(data.copy(), header=hdr())
        scaled.scale("int32", bscale=0.01, bzero=30000.0)
        scaled.writeto(f"{out}/int32-bscale.fits", overwrite=True)
        primary("gzip.fits.gz", f32(), hdr())
        primary("nan-pixels.fits", blanked(f32(), np.nan), hdr())
        primary("blank-int32.fits", blanked(np.round(data).astype(np.int32), -2147483648), hdr(BLANK=-2147483648))
        fits.PrimaryHDU(counts(data), header=hdr()).writeto(f"{out}/blank-uint16.fits", overwrite=True)
        with fits.open(f"{out}/blank-uint16.fits", mode="update", do_not_scale_image_data=True) as f:
            blanked(f[0].data, -32768)
            f[0].header["BLANK"] = -32768
        primary("date-obs-tai.fits", f32(), hdr(remove=["MJD-OBS"], DATE__OBS=tai, TIMESYS="TAI"))
        primary("date-obs-utc.fits", f32(), hdr(remove=["MJD-OBS"], DATE__OBS=utc))
        primary("obsmjd.fits", f32(), hdr(remove=["MJD-OBS"], OBSMJD=mjd))
        primary("expstart.fits", f32(), hdr(remove=["MJD-OBS"], EXPSTART=mjd))
        primary("survey-names.fits", f32(), hdr(remove=["SATURATE", "GAIN", "RDNOISE"],
                                                 SATURVAL=base["SATURATE"], EGAIN=base["GAIN"], READNOI=base["RDNOISE"]))
        primary("other-names.fits", f32(), hdr(remove=["SATURATE", "RDNOISE"], SATLEVEL=base["SATURATE"], READNOIS=base["RDNOISE"]))
        primary("sip5-ap-bp.fits", f32(), with_inverse(hdr()))

        # The WCS as astropy evaluates it (all_pix2world, SIP included) on a grid of 1-based pixels, for the WCS cases.
        tan = hdr(remove=[k for k in base if k.startswith(("A_", "B_", "AP_", "BP_"))], CTYPE1="RA---TAN", CTYPE2="DEC--TAN")
        primary("tan.fits", f32(), tan)
        for name in ("tan.fits", "primary-float32.fits", "sip5-ap-bp.fits"):
            w = WCS(fits.getheader(f"{out}/{name}"))
            ys, xs = np.mgrid[0.5:data.shape[0] + 1:12.75, 0.5:data.shape[1] + 1:12.75]
            ra, dec = w.all_pix2world(xs.ravel(), ys.ravel(), 1)
            with open(f"{out}/{name}.json", "w") as f:
                json.dump({"x": xs.ravel().tolist(), "y": ys.ravel().tolist(), "ra": ra.tolist(), "dec": dec.tolist()}, f)

        # Cases that cannot work
        primary("no-time.fits", f32(), hdr(remove=["MJD-OBS"]))
        primary("bad-date-obs.fits", f32(), hdr(remove=["MJD-OBS"], DATE__OBS="07/09/28"))
        primary("bad-timesys.fits", f32(), hdr(remove=["MJD-OBS"], DATE__OBS=tai, TIMESYS="MARS"))
        primary("no-exptime.fits", f32(), hdr(remove=["EXPTIME"]))
        primary("zero-egain.fits", f32(), hdr(remove=["GAIN"], EGAIN=0.0))
        primary("text-saturval.fits", f32(), hdr(remove=["SATURATE"], SATURVAL="high"))
        primary("negative-readnoi.fits", f32(), hdr(remove=["RDNOISE"], READNOI=-1.0))
        primary("zpn-projection.fits", f32(), hdr(CTYPE1="RA---ZPN", CTYPE2="DEC--ZPN"))
        primary("sip-without-order.fits", f32(), hdr(remove=["A_ORDER"]))
        no_bp = with_inverse(hdr())
        for k in [k for k in no_bp if k.startswith("BP_")]:
            no_bp.remove(k)
        primary("ap-without-bp.fits", f32(), no_bp)
        primary("singular-cd.fits", f32(), hdr(CD1_1=0.0, CD1_2=0.0))
        primary("cube.fits", np.stack([f32(), f32()]), hdr())
        """;
}
