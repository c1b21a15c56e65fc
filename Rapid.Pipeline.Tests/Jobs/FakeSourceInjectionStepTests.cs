using Rapid.Core.Contracts;
using Rapid.Core.Storage;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Jobs;
using Rapid.Pipeline.Simulation;
using Rapid.Pipeline.Tests.Fits.Support;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Jobs;

public sealed class FakeSourceInjectionStepTests : IDisposable
{
    private const int Size = 200;
    private const double ExpTime = 100;
    private const double Gain = 2;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A flat, noiseless rate image (no stars: the FWHM then comes from the filter's model).</summary>
    private static CalibratedImage Image(bool zeroPoint = true)
    {
        var header = new FitsHeader();
        header.Set("EXPTIME", ExpTime);
        header.Set("GAIN", Gain);
        header.Set("FILTER", "H158");
        if (zeroPoint) header.Set("ZPTMAG", 26.0);
        return new CalibratedImage
        {
            Source = "test.fits", Width = Size, Height = Size,
            Rate = new float[Size * Size], Variance = Enumerable.Repeat(0.01f, Size * Size).ToArray(),
            Wcs = TanSipWcs.NorthUp(150, 2, (Size + 1) / 2.0, (Size + 1) / 2.0, 0.11), Header = header, ExpTime = ExpTime,
            ZeroPointMag = zeroPoint ? 26.0 : null,
        };
    }

    private JobContext Context(FakeSourcesConfig? fakes) => new(
        new JobConfig
        {
            Jid = 1, ProcDate = "20280908",
            Spec = new ScienceSpec { Science = new L2Image { Rid = 1, File = new ObjectRef("b", "sci.fits") }, Reference = new ReferenceSource(), FakeSources = fakes },
        },
        new DirectoryObjectStore(_dir.File("store")), new ObjectKeys(Buckets.Default), Directory.CreateDirectory(_dir.File("work")).FullName, new JobLog());

    [Fact]
    public void Injects_the_asked_sources_with_their_flux_variance_and_seed()
    {
        var image = Image();
        var config = new FakeSourcesConfig { Count = 20, BrightMag = 20, FaintMag = 22, Seed = 99 };

        var injection = FakeSourceInjectionStep.Inject(Context(config), image)!;

        Assert.Equal(20, injection.Sources.Count);
        Assert.Equal((99L, "model"), (injection.Seed, injection.PsfSource));
        Assert.Equal(MoffatPsf.FwhmArcsec(RomanFilter.Named("H158")) / 0.11, injection.PsfFwhmPixels, 6);
        Assert.All(injection.Sources, s =>
        {
            Assert.InRange(s.Mag, 20, 22);
            Assert.InRange(s.X, 1 + config.EdgeMarginPixels, Size - config.EdgeMarginPixels);
            Assert.InRange(s.Y, 1 + config.EdgeMarginPixels, Size - config.EdgeMarginPixels);
            Assert.Equal(Math.Pow(10, -0.4 * (s.Mag - 26)) * ExpTime, s.FluxDn, s.FluxDn * 1e-9);
        });
        // The image gains the sources' rate (plus zero-mean noise); the variance their Poisson variance exactly.
        var rate = injection.Sources.Sum(s => s.FluxDn / ExpTime);
        var addedVariance = image.Variance.Sum(v => v - 0.01);
        Assert.Equal(rate / (Gain * ExpTime), addedVariance, rate / (Gain * ExpTime) * 1e-3);
        Assert.Equal(rate, image.Rate.Sum(), 5 * Math.Sqrt(addedVariance));
    }

    [Fact]
    public void The_same_seed_injects_the_same_sources_and_another_seed_others()
    {
        var config = new FakeSourcesConfig { Count = 10, BrightMag = 20, FaintMag = 22, Seed = 5 };
        var a = FakeSourceInjectionStep.Inject(Context(config), Image())!.Sources;
        var b = FakeSourceInjectionStep.Inject(Context(config), Image())!.Sources;
        var c = FakeSourceInjectionStep.Inject(Context(config with { Seed = 6 }), Image())!.Sources;
        Assert.Equal(a, b);
        Assert.NotEqual(a.Select(s => s.X), c.Select(s => s.X));
    }

    [Fact]
    public void Without_a_range_the_magnitudes_straddle_the_estimated_limit()
    {
        var injection = FakeSourceInjectionStep.Inject(Context(new FakeSourcesConfig { Count = 10 }), Image())!;
        Assert.Equal(injection.MagLimit - 2.5, injection.BrightMag, 9);
        Assert.Equal(injection.MagLimit + 1.0, injection.FaintMag, 9);
    }

    [Fact]
    public void Disabled_or_absent_injects_nothing_and_leaves_the_image_alone()
    {
        foreach (var config in new[] { null, new FakeSourcesConfig { Enabled = false }, new FakeSourcesConfig { Count = 0 } })
        {
            var image = Image();
            Assert.Null(FakeSourceInjectionStep.Inject(Context(config), image));
            Assert.All(image.Rate, r => Assert.Equal(0f, r));
        }
    }

    [Fact]
    public void An_image_without_a_zero_point_is_a_warning_and_gets_no_sources()
    {
        var context = Context(new FakeSourcesConfig());
        Assert.Null(FakeSourceInjectionStep.Inject(context, Image(zeroPoint: false)));
        Assert.Contains("ZPTMAG", Assert.Single(context.Warnings, w => w.Kind == JobWarningKind.FakeSources).Message);
    }

    [Fact]
    public void More_sources_than_fit_are_capped_to_what_fits()
    {
        var injection = FakeSourceInjectionStep.Inject(Context(new FakeSourcesConfig { Count = 1000, BrightMag = 20, FaintMag = 22 }), Image())!;
        var room = (Size - 64.0) * (Size - 64.0) / (4 * 12 * 12);
        Assert.Equal((int)room, injection.Sources.Count);
    }

    [Fact]
    public void An_image_smaller_than_its_margins_is_a_warning_and_gets_no_sources()
    {
        var context = Context(new FakeSourcesConfig { EdgeMarginPixels = 150 });
        Assert.Null(FakeSourceInjectionStep.Inject(context, Image()));
        Assert.Contains("no room", Assert.Single(context.Warnings, w => w.Kind == JobWarningKind.FakeSources).Message);
    }

    [Theory]
    [InlineData(1.2)]
    [InlineData(1.5)]
    [InlineData(2.5)]
    public void The_moffat_fwhm_is_found_whose_moment_fwhm_the_stars_measured(double trueFwhm)
    {
        // What StarMeasurement reads off noiseless Moffat stars of that FWHM at random sub-pixel positions, then back.
        const int n = 41;
        var random = new Random(3);
        var measured = new List<double>();
        for (var k = 0; k < 40; k++)
        {
            var image = new float[n * n];
            StampRenderer.AddPointSource(image, n, n, 20 + random.NextDouble(), 20 + random.NextDouble(), 1e6, new MoffatPsf(trueFwhm));
            var stars = StarMeasurement.BrightStars(image, Enumerable.Repeat(1f, n * n).ToArray(), n, n);
            if (stars.Count == 1) measured.Add(stars[0].Fwhm);
        }
        Assert.True(measured.Count >= 20, $"only {measured.Count} of 40 stars measured");
        var moments = measured.Average();
        Assert.True(moments > trueFwhm * 1.1, $"moment FWHM {moments:F3} of a Moffat of FWHM {trueFwhm}");   // why the conversion is needed

        Assert.Equal(trueFwhm, FakeSourceInjectionStep.MoffatFwhmForMomentFwhm(moments)!.Value, 0.03 * trueFwhm);
    }

    [Fact]
    public void The_limit_brightens_by_2_5_mag_for_ten_times_the_noise()
    {
        var psf = new MoffatPsf(1.5);
        var deep = FakeSourceInjectionStep.LimitingMagnitude(psf, 0.1, 5, 26);
        var shallow = FakeSourceInjectionStep.LimitingMagnitude(psf, 1.0, 5, 26);
        Assert.Equal(2.5, deep - shallow, 9);
    }

    [Fact]
    public void The_limit_is_the_psf_matched_filter_threshold()
    {
        // A well-sampled Moffat: sum P^2 = (beta - 1)^2 / (pi alpha^2 (2 beta - 1)) over the plane, so the
        // 5-sigma flux is 5 sigma / sqrt(sum P^2) (the S/N of S_corr).
        var psf = new MoffatPsf(6.0);
        var beta = MoffatPsf.Beta;
        var sumOfSquares = (beta - 1) * (beta - 1) / (Math.PI * psf.AlphaPixels * psf.AlphaPixels * (2 * beta - 1));
        var expected = 26 - 2.5 * Math.Log10(5 * 0.2 / Math.Sqrt(sumOfSquares));
        Assert.Equal(expected, FakeSourceInjectionStep.LimitingMagnitude(psf, 0.2, 5, 26), 0.02);
    }
}
