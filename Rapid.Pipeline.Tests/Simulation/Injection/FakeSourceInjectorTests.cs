using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Simulation.Injection;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Simulation.Injection;

public class FakeSourceInjectorTests
{
    private static readonly TanSipWcs Wcs = TanSipWcs.NorthUp(150, 2, 128.5, 128.5, 0.11);

    [Fact]
    public void Injected_sources_land_at_their_positions_with_their_flux()
    {
        var image = new FitsImage(256, 256);
        var injected = FakeSourceInjector.Inject(image, Wcs, 25.3, 139.8, 1.5,
            new FakeSourceSettings { Count = 10, BrightMag = 19, FaintMag = 21, MinSeparationPixels = 30 });
        Assert.Equal(10, injected.Count);
        foreach (var s in injected)
        {
            var (cx, cy) = StampRendererTests.Centroid(image.Pixels, 256, s.X - 1, s.Y - 1, 8);
            Assert.InRange(cx + 1 - s.X, -0.05, 0.05);
            Assert.InRange(cy + 1 - s.Y, -0.05, 0.05);
            Assert.Equal(s.FluxDn, StampRendererTests.ApertureSum(image.Pixels, 256, s.X - 1, s.Y - 1, 12), s.FluxDn * 0.01);
            Assert.Equal(Math.Pow(10, -0.4 * (s.Mag - 25.3)) * 139.8, s.FluxDn, 6);
            var (ra, dec) = Wcs.PixelToSky(s.X, s.Y);
            Assert.Equal((ra, dec), (s.RaDeg, s.DecDeg));
        }
    }

    [Fact]
    public void Positions_avoid_edges_nan_pixels_and_each_other()
    {
        var image = new FitsImage(256, 256);
        for (var y = 0; y < 256; y++) for (var x = 0; x < 128; x++) image[x, y] = float.NaN;
        var injected = FakeSourceInjector.Inject(image, Wcs, 25.3, 139.8, 1.5,
            new FakeSourceSettings { Count = 20, EdgeMarginPixels = 20, MinSeparationPixels = 10 });
        Assert.All(injected, s =>
        {
            Assert.InRange(s.X, 128.5, 256 - 20);
            Assert.InRange(s.Y, 21, 256 - 20);
            Assert.InRange(s.Mag, 21, 26.5);
        });
        foreach (var a in injected)
            foreach (var b in injected.Where(b => b.Index != a.Index))
                Assert.True(Math.Pow(a.X - b.X, 2) + Math.Pow(a.Y - b.Y, 2) >= 100);
    }

    [Fact]
    public void Same_seed_injects_the_same_sources()
    {
        var settings = new FakeSourceSettings { Count = 5, Seed = 7 };
        var a = FakeSourceInjector.Inject(new FitsImage(256, 256), Wcs, 25, 100, 1.5, settings);
        var b = FakeSourceInjector.Inject(new FitsImage(256, 256), Wcs, 25, 100, 1.5, settings);
        var c = FakeSourceInjector.Inject(new FitsImage(256, 256), Wcs, 25, 100, 1.5, settings with { Seed = 8 });
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Too_many_sources_for_the_room_is_refused_naming_the_count()
    {
        var ex = Assert.Throws<ArgumentException>(() => FakeSourceInjector.Inject(new FitsImage(80, 80), Wcs, 25, 100, 1.5,
            new FakeSourceSettings { Count = 100, EdgeMarginPixels = 10, MinSeparationPixels = 20 }));
        Assert.Contains("of 100", ex.Message);
        Assert.Throws<ArgumentException>(() => FakeSourceInjector.Inject(new FitsImage(40, 40), Wcs, 25, 100, 1.5, new FakeSourceSettings()));
    }
}
