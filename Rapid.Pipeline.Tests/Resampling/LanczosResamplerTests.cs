using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Resampling;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Resampling;

public sealed class LanczosResamplerTests
{
    private const double Scale = 0.11; // arcsec/px, Roman WFI

    private static TanSipWcs Rotated(double crpix1, double crpix2, double angleDeg, double ra = 150, double dec = 2)
    {
        var s = Scale / 3600;
        var (c, sn) = (Math.Cos(angleDeg * Math.PI / 180), Math.Sin(angleDeg * Math.PI / 180));
        return new TanSipWcs(crpix1, crpix2, ra, dec, -s * c, s * sn, s * sn, s * c);
    }

    private static FitsImage GaussianStar(int size, double x0, double y0, double sigma, double flux, float background = 0)
    {
        var image = new FitsImage(size, size);
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                var r2 = (x - x0) * (x - x0) + (y - y0) * (y - y0);
                image[x, y] = background + (float)(flux / (2 * Math.PI * sigma * sigma) * Math.Exp(-r2 / (2 * sigma * sigma)));
            }
        return image;
    }

    [Fact]
    public void Shifted_and_rotated_star_lands_at_the_expected_position_and_keeps_its_flux()
    {
        const double x0 = 50.3, y0 = 49.7, flux = 10000; // 0-based source position
        var srcWcs = Rotated(51, 51, 0);
        var dstWcs = Rotated(54.8, 47.15, 20);
        var src = GaussianStar(101, x0, y0, 2.0, flux);

        var result = LanczosResampler.Resample(src, srcWcs, 110, 110, dstWcs);

        var (ra, dec) = srcWcs.PixelToSky(x0 + 1, y0 + 1);
        var (ex, ey) = dstWcs.SkyToPixel(ra, dec);
        (ex, ey) = (ex - 1, ey - 1);
        double sum = 0, sx = 0, sy = 0;
        for (var y = (int)ey - 15; y <= (int)ey + 15; y++)
            for (var x = (int)ex - 15; x <= (int)ex + 15; x++)
            {
                var v = result.Pixels[y * 110 + x];
                Assert.False(float.IsNaN(v));
                sum += v;
                sx += v * x;
                sy += v * y;
            }
        Assert.InRange(sum, flux * 0.99, flux * 1.01);
        Assert.Equal(ex, sx / sum, 0.01);
        Assert.Equal(ey, sy / sum, 0.01);
    }

    [Fact]
    public void Phase_table_weights_are_the_kernel_weights_with_their_sums()
    {
        var rng = new Random(5);
        Span<float> exact = stackalloc float[6];
        foreach (var frac in Enumerable.Range(0, 2000).Select(_ => (float)rng.NextDouble()).Append(0f).Append(1f).Append(0.5f))
        {
            LanczosKernel.Weights(frac, exact);
            var phase = LanczosKernel.PhaseWeights(frac);
            for (var k = 0; k < 6; k++) Assert.Equal(exact[k], phase[k], 1e-6);
            Assert.Equal(exact.ToArray().Sum(), phase[6], 1e-5);
            Assert.Equal(exact.ToArray().Sum(MathF.Abs), phase[7], 1e-5);
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(3, -2)]
    public void Grids_a_whole_pixel_shift_apart_are_copied_as_the_kernel_would_resample_them(int shiftX, int shiftY)
    {
        var rng = new Random(3);
        var src = new FitsImage(90, 64);
        var variance = new float[src.Pixels.Length];
        for (var i = 0; i < src.Pixels.Length; i++)
        {
            src.Pixels[i] = (float)(rng.NextDouble() * 100 - 20);
            variance[i] = (float)(1 + rng.NextDouble());
        }
        src[10, 10] = float.NaN;
        src[11, 30] = float.NaN;
        variance[40 * 90 + 50] = float.NaN;
        var a = new double[3, 3];
        var b = new double[3, 3];
        a[2, 0] = 1e-5; b[0, 2] = -2e-5; a[1, 1] = 3e-6;
        var srcWcs = new TanSipWcs(45, 32, 10, -40, -Scale / 3600, 0, 0, Scale / 3600, a, b);
        // Destination pixel (x, y) sees source pixel (x + shiftX, y + shiftY): CRPIX moved by the shift, same distortion.
        var dstWcs = new TanSipWcs(45 - shiftX, 32 - shiftY, 10, -40, -Scale / 3600, 0, 0, Scale / 3600, a, b);

        var copied = LanczosResampler.Resample(src, srcWcs, 80, 70, dstWcs, variance);
        var kernel = LanczosResampler.Resample(src, srcWcs, 80, 70, dstWcs, variance, allowShiftCopy: false);

        for (var i = 0; i < copied.Pixels.Length; i++)
        {
            Assert.Equal(float.IsNaN(kernel.Pixels[i]), float.IsNaN(copied.Pixels[i]));
            Assert.Equal(kernel.Coverage[i], copied.Coverage[i], 1e-5);
            if (float.IsNaN(kernel.Pixels[i])) continue;
            Assert.Equal(kernel.Pixels[i], copied.Pixels[i], 1e-3);
            Assert.Equal(kernel.Variance![i], copied.Variance![i], 1e-4);
        }
        var (x, y) = (20, 25);
        Assert.Equal(src[x + shiftX, y + shiftY], copied.Pixels[y * 80 + x]);
    }

    [Fact]
    public void Resampling_onto_the_identical_grid_reproduces_the_image()
    {
        var rng = new Random(7);
        var src = new FitsImage(70, 50);
        for (var i = 0; i < src.Pixels.Length; i++) src.Pixels[i] = (float)(rng.NextDouble() * 100 - 20);
        src[10, 10] = float.NaN;
        var a = new double[3, 3];
        var b = new double[3, 3];
        a[2, 0] = 1e-5; b[0, 2] = -2e-5; a[1, 1] = 3e-6;
        var wcs = new TanSipWcs(35, 25, 10, -40, -Scale / 3600, 0, 0, Scale / 3600, a, b);

        var result = LanczosResampler.Resample(src, wcs, 70, 50, wcs);

        for (var i = 0; i < src.Pixels.Length; i++)
        {
            if (float.IsNaN(src.Pixels[i]))
            {
                Assert.True(float.IsNaN(result.Pixels[i]));
                Assert.Equal(0f, result.Coverage[i]);
                continue;
            }
            Assert.Equal(src.Pixels[i], result.Pixels[i], 1e-3);
            Assert.Equal(1f, result.Coverage[i], 1e-4);
        }
    }

    [Fact]
    public void Outside_the_footprint_is_NaN_with_zero_coverage_and_edges_are_fractional()
    {
        var src = new FitsImage(40, 40);
        Array.Fill(src.Pixels, 3f);
        var srcWcs = Rotated(20.5, 20.5, 0);
        var dstWcs = Rotated(40.75, 40.25, 0); // the source sits in the middle of a larger grid, offset by a fraction

        var result = LanczosResampler.Resample(src, srcWcs, 80, 80, dstWcs);

        // Destination (x, y) maps to source (x - 20.25, y - 19.75).
        Assert.True(float.IsNaN(result.Pixels[5 * 80 + 5]));
        Assert.Equal(0f, result.Coverage[5 * 80 + 5]);
        Assert.True(float.IsNaN(result.Pixels[40 * 80 + 75]));
        Assert.Equal(0f, result.Coverage[40 * 80 + 75]);
        Assert.Equal(3f, result.Pixels[40 * 80 + 40], 1e-4);
        Assert.Equal(1f, result.Coverage[40 * 80 + 40], 1e-6);
        var edge = result.Coverage[40 * 80 + 21]; // source x = 0.75: taps at -2 and -1 are outside
        Assert.InRange(edge, 0.05f, 0.999f);
        Assert.Equal(3f, result.Pixels[40 * 80 + 21], 1e-4); // renormalised: a flat image stays flat
    }

    [Fact]
    public void Pixels_with_a_tap_on_a_NaN_input_are_masked_not_renormalised()
    {
        // A saturated core (NaN) in a star: renormalising the remaining taps would put the wings' values where the core
        // was. Every output pixel whose 6 x 6 taps hold it is masked; the others, and the edges, are resampled as usual.
        var src = new FitsImage(30, 30);
        for (var y = 0; y < 30; y++)
            for (var x = 0; x < 30; x++) src[x, y] = (float)(5 + 1000 * Math.Exp(-((x - 15) * (x - 15) + (y - 15) * (y - 15)) / 4.0));
        src[15, 15] = float.NaN;
        var srcWcs = Rotated(15.5, 15.5, 0);
        var dstWcs = Rotated(15.2, 15.3, 0); // destination (x, y) samples source (x + 0.3, y + 0.2): taps x - 2 .. x + 3

        var result = LanczosResampler.Resample(src, srcWcs, 30, 30, dstWcs);

        for (var y = 0; y < 30; y++)
            for (var x = 0; x < 30; x++)
            {
                var holdsIt = x - 2 <= 15 && 15 <= x + 3 && y - 2 <= 15 && 15 <= y + 3;
                Assert.Equal(holdsIt, float.IsNaN(result.Pixels[y * 30 + x]));
                if (holdsIt) Assert.Equal(0f, result.Coverage[y * 30 + x]);
            }
        Assert.Equal(1f, result.Coverage[5 * 30 + 5], 1e-6);
        Assert.InRange(result.Coverage[15 * 30 + 0], 0.05f, 0.999f);
        Assert.False(float.IsNaN(result.Pixels[15 * 30 + 0]));
    }

    [Fact]
    public void Variance_is_propagated_with_squared_weights()
    {
        var src = new FitsImage(30, 30);
        var variance = Enumerable.Repeat(4f, 900).ToArray();
        var srcWcs = Rotated(15.5, 15.5, 0);
        var dstWcs = Rotated(15.2, 15.5, 0); // shift by 0.3 px in x only

        var shifted = LanczosResampler.Resample(src, srcWcs, 30, 30, dstWcs, variance);
        var same = LanczosResampler.Resample(src, srcWcs, 30, 30, srcWcs, variance);

        // Destination x maps to source x + 0.3: weights L(0.3 + 2 - k), k = 0..5.
        var w = Enumerable.Range(0, 6).Select(k => LanczosKernel.Exact(0.3 + 2 - k)).ToArray();
        var expected = 4 * w.Sum(v => v * v) / Math.Pow(w.Sum(), 2);
        Assert.Equal(expected, shifted.Variance![15 * 30 + 15], 1e-4);
        Assert.InRange(expected, 4 * 0.85, 4 * 0.87); // a 0.3 px shift averages noise: 86 % of the input variance
        Assert.Equal(4f, same.Variance![15 * 30 + 15], 1e-4);
    }

    [Fact]
    public void Coarse_grid_mapping_matches_the_exact_mapping()
    {
        var a = new double[5, 5];
        var b = new double[5, 5];
        a[2, 0] = 1.2e-6; a[0, 2] = 0.5e-6; a[3, 0] = 2e-10; a[4, 0] = 1e-14;
        b[1, 1] = 1.1e-6; b[0, 3] = -1.3e-10; b[0, 4] = 2e-14;
        var s = Scale / 3600;
        var srcWcs = new TanSipWcs(2044.5, 2044.5, 150, 2, -s * 0.9, s * 0.3, s * 0.3, s * 0.9, a, b);
        var dstWcs = Rotated(2000, 2100, 5);
        var map = new PixelMap(4088, 4088, dstWcs, srcWcs);
        var xs = new double[4088];
        var ys = new double[4088];
        var worst = 0.0;
        foreach (var y in new[] { 0, 7, 1000, 2047, 4080, 4087 })
        {
            map.MapRow(y, xs, ys);
            for (var x = 0; x < 4088; x += 13)
            {
                var (ex, ey) = map.Exact(x, y);
                worst = Math.Max(worst, Math.Max(Math.Abs(ex - xs[x]), Math.Abs(ey - ys[x])));
            }
        }
        Assert.True(worst < 1e-3, $"worst interpolation error {worst} px");
    }

    [Fact]
    public void Kernel_table_matches_Lanczos3()
    {
        for (var t = -3.5; t <= 3.5; t += 0.0137)
            Assert.Equal(LanczosKernel.Exact(t), LanczosKernel.Evaluate((float)t), 1e-6);
        Span<float> w = stackalloc float[6];
        LanczosKernel.Weights(0, w);
        Assert.Equal([0f, 0f, 1f, 0f, 0f, 0f], w.ToArray().Select(v => MathF.Round(v, 6)).ToArray());
        Assert.Equal(0.0, LanczosKernel.Exact(3));
        Assert.Equal(Math.Sin(Math.PI / 2) * Math.Sin(Math.PI / 6) * 3 / (Math.PI * Math.PI / 4), LanczosKernel.Exact(0.5), 1e-12);
    }
}
