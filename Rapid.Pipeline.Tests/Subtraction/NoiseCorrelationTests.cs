using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Subtraction;

namespace Rapid.Pipeline.Tests.Subtraction;

public class NoiseCorrelationTests
{
    private const int MaxLag = NoiseCorrelation.MaxLag;
    private const int Side = 2 * MaxLag + 1;

    // Noise smoothed along x by (1, 1) / sqrt(2): rho(±1, 0) = 1/2, every other lag 0. Stars, NaN pixels and a masked
    // column keep pixels out of the sky sample.
    private static float[] SkyWithSources(int width, int height, int seed)
    {
        var random = new Random(seed);
        var white = new double[(width + 1) * height];
        for (var i = 0; i < white.Length; i++)
            white[i] = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var image = new float[width * height];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                image[y * width + x] = (float)((white[y * (width + 1) + x] + white[y * (width + 1) + x + 1]) / Math.Sqrt(2));
        for (var k = 0; k < 40; k++)
        {
            var (cx, cy) = (random.Next(width), random.Next(height));
            for (var y = Math.Max(0, cy - 3); y <= Math.Min(height - 1, cy + 3); y++)
                for (var x = Math.Max(0, cx - 3); x <= Math.Min(width - 1, cx + 3); x++)
                    image[y * width + x] += (float)(50 * Math.Exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 2.0));
        }
        for (var y = 0; y < height; y++) image[y * width + 37] = float.NaN;
        for (var k = 0; k < 30; k++) image[random.Next(image.Length)] = float.NaN;
        return image;
    }

    // The definition, pixel by pixel: every sampled row's pixels whose whole lag box lies within 3 sigma, each lag's
    // products summed, normalised by lag 0.
    private static double[] NaiveAutocorrelation(float[] image, int width, int height, double sigma)
    {
        var stride = Math.Max(1, height / 512);
        var sums = new double[Side * Side];
        for (var y = MaxLag; y < height - MaxLag; y += stride)
            for (var x = MaxLag; x < width - MaxLag; x++)
            {
                var sky = true;
                for (var dy = -MaxLag; dy <= MaxLag; dy++)
                    for (var dx = -MaxLag; dx <= MaxLag; dx++)
                        sky &= Math.Abs(image[(y + dy) * width + x + dx]) <= 3 * sigma;
                if (!sky) continue;
                for (var dy = -MaxLag; dy <= MaxLag; dy++)
                    for (var dx = -MaxLag; dx <= MaxLag; dx++)
                        sums[(dy + MaxLag) * Side + dx + MaxLag] += (double)image[y * width + x] * image[(y + dy) * width + x + dx];
            }
        var zero = sums[MaxLag * Side + MaxLag];
        return [.. sums.Select(s => s / zero)];
    }

    [Theory]
    [InlineData(300, 200)]
    [InlineData(257, 1100)]
    public void Autocorrelation_is_the_definition_summed_pixel_by_pixel_and_the_same_on_every_call(int width, int height)
    {
        var image = SkyWithSources(width, height, width + height);

        var rho = NoiseCorrelation.Autocorrelation(image, width, height, 1.0)!;

        var expected = NaiveAutocorrelation(image, width, height, 1.0);
        for (var k = 0; k < rho.Length; k++) Assert.Equal(expected[k], rho[k], 1e-12);
        // The smoothing's own correlation: 1/2 at (±1, 0) (within the sample's noise), about 0 two pixels away.
        Assert.InRange(rho[MaxLag * Side + MaxLag + 1], 0.45, 0.55);
        Assert.InRange(rho[MaxLag * Side + MaxLag - 1], 0.45, 0.55);
        Assert.InRange(rho[(MaxLag + 1) * Side + MaxLag], -0.05, 0.05);
        Assert.InRange(rho[MaxLag * Side + MaxLag + 2], -0.05, 0.05);
        // Bit for bit the same however the rows are shared between threads.
        for (var run = 0; run < 5; run++) Assert.Equal(rho, NoiseCorrelation.Autocorrelation(image, width, height, 1.0));
    }

    [Fact]
    public void Decoupled_averages_the_part_above_the_sky_over_3_x_3_skipping_NaN_and_keeping_NaN_pixels()
    {
        const int width = 61, height = 47;
        var random = new Random(3);
        var variance = new float[width * height];
        for (var i = 0; i < variance.Length; i++) variance[i] = (float)(4 + random.NextDouble());
        for (var k = 0; k < 60; k++) variance[random.Next(variance.Length)] = (float)(4 + 500 * random.NextDouble());
        for (var k = 0; k < 40; k++) variance[random.Next(variance.Length)] = float.NaN;
        variance[0] = variance[width - 1] = variance[^1] = float.NaN;
        variance[width + 1] = float.PositiveInfinity;

        var result = NoiseCorrelation.Decoupled(variance, width, height);

        // The sky: the map's clipped median (small maps are sampled whole); every pixel follows from the definition,
        // edges with their truncated boxes.
        var sky = (float)RobustStatistics.SigmaClip(variance).Median;
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var i = y * width + x;
                if (!float.IsFinite(variance[i])) { Assert.True(float.IsNaN(result[i]), $"({x}, {y}) is not finite: NaN"); continue; }
                double sum = 0;
                var n = 0;
                for (var j = Math.Max(0, y - 1); j <= Math.Min(height - 1, y + 1); j++)
                    for (var a = Math.Max(0, x - 1); a <= Math.Min(width - 1, x + 1); a++)
                        if (float.IsFinite(variance[j * width + a])) { sum += variance[j * width + a] - sky; n++; }
                Assert.Equal((float)(sky + Math.Max(0, sum / n)), result[i]);
            }
    }
}
