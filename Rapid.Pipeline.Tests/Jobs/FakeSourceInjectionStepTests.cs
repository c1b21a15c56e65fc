using Rapid.Core.Contracts;
using Rapid.Core.Storage;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Jobs;
using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Simulation;
using Rapid.Pipeline.Tests.Fits.Support;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Jobs;

public sealed class FakeSourceInjectionStepTests : IDisposable
{
    private const int Size = 200;
    private const double ExpTime = 100;
    private const double Gain = 2;
    /// <summary>A pixel-integrated Gaussian ePSF (known exactly) for the tests that do not build one.</summary>
    private static readonly EffectivePsf Psf = EffectivePsf.Gaussian(1.5, 12, 4, PsfMethod.Given);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A flat, noiseless rate image.</summary>
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

        var injection = FakeSourceInjectionStep.Inject(Context(config), image, Psf)!;

        Assert.Equal(20, injection.Sources.Count);
        Assert.Equal((99L, "science"), (injection.Seed, injection.PsfSource));
        Assert.Equal(Psf.FwhmPixels, injection.PsfFwhmPixels, 9);
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
        var a = FakeSourceInjectionStep.Inject(Context(config), Image(), Psf)!.Sources;
        var b = FakeSourceInjectionStep.Inject(Context(config), Image(), Psf)!.Sources;
        var c = FakeSourceInjectionStep.Inject(Context(config with { Seed = 6 }), Image(), Psf)!.Sources;
        Assert.Equal(a, b);
        Assert.NotEqual(a.Select(s => s.X), c.Select(s => s.X));
    }

    [Fact]
    public void Without_a_range_the_magnitudes_straddle_the_estimated_limit()
    {
        var injection = FakeSourceInjectionStep.Inject(Context(new FakeSourcesConfig { Count = 10 }), Image(), Psf)!;
        Assert.Equal(injection.MagLimit - 2.5, injection.BrightMag, 9);
        Assert.Equal(injection.MagLimit + 1.0, injection.FaintMag, 9);
    }

    [Fact]
    public void Disabled_or_absent_injects_nothing_and_leaves_the_image_alone()
    {
        foreach (var config in new[] { null, new FakeSourcesConfig { Enabled = false }, new FakeSourcesConfig { Count = 0 } })
        {
            var image = Image();
            Assert.Null(FakeSourceInjectionStep.Inject(Context(config), image, Psf));
            Assert.All(image.Rate, r => Assert.Equal(0f, r));
        }
    }

    [Fact]
    public void An_image_without_a_zero_point_is_a_warning_and_gets_no_sources()
    {
        var context = Context(new FakeSourcesConfig());
        Assert.Null(FakeSourceInjectionStep.Inject(context, Image(zeroPoint: false), Psf));
        Assert.Contains("ZPTMAG", Assert.Single(context.Warnings, w => w.Kind == JobWarningKind.FakeSources).Message);
    }

    [Fact]
    public void More_sources_than_fit_are_capped_to_what_fits()
    {
        var injection = FakeSourceInjectionStep.Inject(Context(new FakeSourcesConfig { Count = 1000, BrightMag = 20, FaintMag = 22 }), Image(), Psf)!;
        var room = (Size - 64.0) * (Size - 64.0) / (4 * 12 * 12);
        Assert.Equal((int)room, injection.Sources.Count);
    }

    [Fact]
    public void An_image_smaller_than_its_margins_is_a_warning_and_gets_no_sources()
    {
        var context = Context(new FakeSourcesConfig { EdgeMarginPixels = 150 });
        Assert.Null(FakeSourceInjectionStep.Inject(context, Image(), Psf));
        Assert.Contains("no room", Assert.Single(context.Warnings, w => w.Kind == JobWarningKind.FakeSources).Message);
    }

    [Fact]
    public void Each_fake_is_the_epsf_rendered_at_its_own_sub_pixel_phase()
    {
        var image = Image();
        var injection = FakeSourceInjectionStep.Inject(Context(new FakeSourcesConfig { Count = 8, BrightMag = 20, FaintMag = 21, Seed = 3 }), image, Psf)!;

        // The variance gains exactly rate · ψ / (gain t) per pixel: ψ at the fake's own phase, not a centred stamp.
        Assert.Contains(injection.Sources, s => Math.Abs(s.X - Math.Round(s.X)) > 0.1);
        foreach (var s in injection.Sources)
        {
            var (x, y) = (s.X - 1, s.Y - 1);
            var stamp = Psf.Render(x, y, 7);
            var (x0, y0) = ((int)Math.Round(x) - 3, (int)Math.Round(y) - 3);
            for (var j = 0; j < 7; j++)
                for (var i = 0; i < 7; i++)
                {
                    var expected = s.FluxDn / ExpTime * stamp[j * 7 + i] / (Gain * ExpTime);
                    var added = image.Variance[(y0 + j) * Size + x0 + i] - 0.01;
                    Assert.True(Math.Abs(added - expected) < 1e-4 * s.FluxDn / ExpTime / (Gain * ExpTime) + 2e-6, $"pixel ({x0 + i}, {y0 + j}) of the fake at ({x:F2}, {y:F2})");
                }
        }
    }

    [Fact]
    public void Fakes_have_the_profile_of_the_undersampled_stars_they_are_measured_against()
    {
        // H158-like stars (simulator's pixel-integrated Moffat of 1.32 px): the ePSF built from them before injection
        // draws fakes whose pixels match a real star's at the same position and phase to a few per cent of the peak (2-4 %
        // here, from 225 stars). The Moffat matched to the stars' moment width that drew them before was 16 % too wide
        // (1.53 px against 1.32 px), which moves over 20 % of the peak into the wrong pixels.)
        const int size = 768;
        var truth = new MoffatPsf(1.32);
        var random = new Random(6);
        var image = Image();
        var rate = new float[size * size];
        foreach (var (x, y, f) in Tests.Psf.Support.StarField.Grid(size, size, 48, 30, 300, 3000, random)) StampRenderer.AddPointSource(rate, size, size, x, y, f, truth);
        for (var i = 0; i < rate.Length; i++) rate[i] += 1f + 0.05f * (float)Tests.Psf.Support.StarField.Gaussian(random);
        var science = new CalibratedImage
        {
            Source = "stars.fits", Width = size, Height = size, Rate = rate, Variance = Enumerable.Repeat(0.0025f, rate.Length).ToArray(),
            Wcs = TanSipWcs.NorthUp(150, 2, (size + 1) / 2.0, (size + 1) / 2.0, 0.11), Header = image.Header, ExpTime = ExpTime, ZeroPointMag = 26.0,
        };
        var context = Context(new FakeSourcesConfig { Count = 30, BrightMag = 19, FaintMag = 20, Seed = 4 });

        var psf = SciencePsfStep.Build(context, science, null, new EffectivePsfOptions());
        var injection = FakeSourceInjectionStep.Inject(context, science, psf)!;

        Assert.Equal("science", injection.PsfSource);
        foreach (var s in injection.Sources)
        {
            var (x, y) = (s.X - 1, s.Y - 1);
            var (ix, iy) = ((int)Math.Round(x), (int)Math.Round(y));
            var expected = new double[81];
            truth.FillStamp(expected, 4, x - ix, y - iy);
            var added = new double[81];
            for (var j = 0; j < 9; j++)
                for (var i = 0; i < 9; i++) added[j * 9 + i] = (science.Variance[(iy - 4 + j) * size + ix - 4 + i] - 0.0025) * Gain * ExpTime / (s.FluxDn / ExpTime);
            var worst = expected.Zip(added, (e, a) => Math.Abs(e - a)).Max() / expected.Max();
            Assert.True(worst < 0.05, $"the fake at ({x:F2}, {y:F2}) differs from a star there by {worst:P1} of the peak");
        }
    }

    [Fact]
    public void The_limit_brightens_by_2_5_mag_for_ten_times_the_noise()
    {
        var psf = Psf.ModelAt(0, 0);
        var deep = FakeSourceInjectionStep.LimitingMagnitude(psf, 0.1, 5, 26);
        var shallow = FakeSourceInjectionStep.LimitingMagnitude(psf, 1.0, 5, 26);
        Assert.Equal(2.5, deep - shallow, 9);
    }

    [Fact]
    public void The_limit_is_the_psf_matched_filter_threshold()
    {
        // A well-sampled Gaussian of sigma s (pixel-integrated: s² + 1/12 per axis): sum P² = 1 / (4 pi s²) over the
        // plane, so the 5-sigma flux is 5 sigma / sqrt(sum P²) (the S/N of S_corr).
        const double fwhm = 6.0;
        var s2 = Math.Pow(fwhm * PsfShape.SigmaPerFwhm, 2) + 1.0 / 12;
        var expected = 26 - 2.5 * Math.Log10(5 * 0.2 * Math.Sqrt(4 * Math.PI * s2));
        var psf = EffectivePsf.Gaussian(fwhm, 20, 2, PsfMethod.Given).ModelAt(0, 0);
        Assert.Equal(expected, FakeSourceInjectionStep.LimitingMagnitude(psf, 0.2, 5, 26), 0.01);
    }
}
