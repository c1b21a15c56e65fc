using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Tests.Imaging;

public class ClippedWeightedCoaddTests
{
    private static CoaddLayer Layer(float flux, float variance, float coverage = 1) => new([flux], [variance], [coverage], gridWidth: 1);

    [Fact]
    public void Weights_each_frame_by_its_background_variance()
    {
        var planes = new ClippedWeightedCoadd().Combine([Layer(10, 1), Layer(20, 4)], 1, 1);

        Assert.Equal((10 * 1 + 20 * 0.25) / 1.25, planes.Image[0], 4);
        Assert.Equal(Math.Sqrt(1 / 1.25), planes.Uncertainty[0], 4);
        Assert.Equal(2, planes.Coverage[0]);
    }

    /// <summary>
    /// A variable star's pixel in frames of equal background noise: its variance follows its flux (Poisson), but its
    /// co-added value is the plain mean of the epochs, not the inverse-variance (harmonic-like) mean, which is low.
    /// </summary>
    [Theory]
    [InlineData(0.2)]
    [InlineData(0.5)]
    [InlineData(0.7)]
    public void A_variable_star_comes_out_as_the_mean_of_its_epochs(double amplitudeMag)
    {
        const int pixels = 400;
        var epochs = Enumerable.Range(0, 9).Select(k => 1000 * Math.Pow(10, -0.4 * amplitudeMag * Math.Sin(2 * Math.PI * (k + 0.3) / 9))).ToArray();
        var layers = epochs.Select(f =>
        {
            var flux = new float[pixels];
            var variance = Enumerable.Repeat(4f, pixels).ToArray();
            (flux[0], variance[0]) = ((float)f, (float)(4 + f / 2));
            return new CoaddLayer(flux, variance, Enumerable.Repeat(1f, pixels).ToArray(), gridWidth: pixels);
        }).ToList();

        var planes = new ClippedWeightedCoadd(3.0).Combine(layers, pixels, 1);

        Assert.Equal(epochs.Average(), planes.Image[0], epochs.Average() * 1e-5);
        Assert.Equal(0, planes.RejectedValues);
        var harmonic = epochs.Sum(f => f / (4 + f / 2)) / epochs.Sum(f => 1 / (4 + f / 2));
        Assert.True(harmonic < 0.97 * epochs.Average() || amplitudeMag < 0.5, $"inverse-variance weights would give {harmonic:F1} against the mean {epochs.Average():F1}");
        Assert.Equal(Math.Sqrt(epochs.Sum(f => 4 + f / 2)) / 9, planes.Uncertainty[0], 1e-3);
    }

    [Fact]
    public void Rejects_a_cosmic_ray_in_one_input()
    {
        var planes = new ClippedWeightedCoadd(3.0).Combine([Layer(100, 4), Layer(102, 4), Layer(98, 4), Layer(5000, 4)], 1, 1);

        Assert.Equal(100, planes.Image[0], 3);
        Assert.Equal(1, planes.RejectedValues);
        // Four frames observed the pixel: the rejected value still counts in the coverage.
        Assert.Equal(4, planes.Coverage[0]);
    }

    [Fact]
    public void Skips_inputs_without_data_and_marks_uncovered_pixels_nan()
    {
        var layers = new[]
        {
            new CoaddLayer([1, float.NaN], [1, 1], [1, 0], gridWidth: 2),
            new CoaddLayer([3, float.NaN], [1, 1], [0.5f, 0], gridWidth: 2),
        };

        var planes = new ClippedWeightedCoadd().Combine(layers, 2, 1);

        Assert.Equal(2, planes.Image[0], 4);
        Assert.Equal(1.5, planes.Coverage[0], 4);
        Assert.True(float.IsNaN(planes.Image[1]));
        Assert.Equal(0, planes.Coverage[1]);
    }

    [Fact]
    public void Places_layers_that_cover_only_part_of_the_grid_at_their_offset()
    {
        // A 4x3 grid; one layer covers it all, one only the 2x2 box at (1, 1).
        var full = new CoaddLayer(Enumerable.Repeat(1f, 12).ToArray(), Enumerable.Repeat(1f, 12).ToArray(), Enumerable.Repeat(1f, 12).ToArray(), gridWidth: 4);
        var box = new CoaddLayer([3, 3, 3, 3], [1, 1, 1, 1], [1, 1, 1, 1], X0: 1, Y0: 1, Width: 2, Height: 2);

        var planes = new ClippedWeightedCoadd().Combine([full, box], 4, 3);

        Assert.Equal(1, planes.Image[0]);
        Assert.Equal(2, planes.Image[1 * 4 + 1]);
        Assert.Equal(2, planes.Image[2 * 4 + 2]);
        Assert.Equal(1, planes.Image[2 * 4 + 3]);
        Assert.Equal(2, planes.Coverage[1 * 4 + 2]);
        Assert.Throws<ArgumentException>(() => new ClippedWeightedCoadd().Combine([box with { X0 = 3 }], 4, 3));
    }

    [Fact]
    public void Blocks_of_pixels_and_single_pixels_give_what_the_rule_gives_at_every_pixel()
    {
        // Full-grid and offset layers on a grid whose width is no multiple of 8, with NaN, zero variance, low coverage and
        // outliers: the vector blocks, the pixel-by-pixel edges and the clipping rule written out plainly (frame weights and
        // the frames' noise models) must agree.
        const int width = 37, height = 11;
        var rng = new Random(17);
        var boxes = new[] { (0, 0, width, height), (0, 0, width, height), (3, 2, 30, 9), (0, 0, width, height), (9, 0, 20, 11), (0, 0, width, height) };
        var layers = boxes.Select(b =>
        {
            var (x0, y0, w, h) = b;
            var count = w * h;
            var flux = new float[count];
            var variance = new float[count];
            var coverage = new float[count];
            for (var i = 0; i < count; i++)
            {
                flux[i] = (float)(100 + 3 * rng.NextDouble() + (rng.Next(20) == 0 ? 500 : 0));
                variance[i] = (float)(1 + rng.NextDouble() + flux[i] / 50);
                coverage[i] = (float)rng.NextDouble() * 1.2f;
                switch (rng.Next(25))
                {
                    case 0: flux[i] = float.NaN; break;
                    case 1: variance[i] = 0; break;
                    case 2: coverage[i] = 0.005f; break;
                }
            }
            return new CoaddLayer(flux, variance, coverage, x0, y0, w, h);
        }).ToList();

        var planes = new ClippedWeightedCoadd(3.0).Combine(layers, width, height);

        long rejected = 0;
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var stack = layers.Where(l => x >= l.X0 && x < l.X0 + l.Width && y >= l.Y0 && y < l.Y0 + l.Height)
                    .Select(l => (q: (y - l.Y0) * l.Width + x - l.X0, l))
                    .Select(t => (F: t.l.Flux[t.q], V: t.l.Variance[t.q], C: t.l.Coverage[t.q], Noise: FrameNoise.Of(t.l)))
                    .Where(t => t.C >= 0.01 && float.IsFinite(t.F) && t.V > 0 && float.IsFinite(t.V)).ToList();
                var p = y * width + x;
                if (stack.Count == 0)
                {
                    Assert.True(float.IsNaN(planes.Image[p]));
                    continue;
                }
                var sorted = stack.Select(t => (double)t.F).Order().ToList();
                var median = stack.Count < 3 ? 0 : stack.Count % 2 == 1 ? sorted[stack.Count / 2] : (sorted[stack.Count / 2 - 1] + sorted[stack.Count / 2]) / 2;
                var kept = stack.Where(t => stack.Count < 3 || Math.Abs(t.F - median) <= 3 * Math.Sqrt(t.Noise.Background + t.Noise.PerFlux * Math.Max(median, 0) + Math.Pow(0.4 * median, 2))).ToList();
                rejected += stack.Count - kept.Count;
                if (kept.Count == 0)
                {
                    Assert.True(float.IsNaN(planes.Image[p]) && float.IsNaN(planes.Uncertainty[p]));
                    continue;
                }
                var sumW = kept.Sum(t => 1.0 / t.Noise.Background);
                Assert.Equal(kept.Sum(t => t.F / t.Noise.Background) / sumW, planes.Image[p], 1e-4);
                Assert.Equal(Math.Sqrt(kept.Sum(t => t.V / (t.Noise.Background * t.Noise.Background))) / sumW, planes.Uncertainty[p], 1e-6);
                Assert.Equal(stack.Sum(t => t.C), planes.Coverage[p], 1e-5);
            }
        Assert.Equal(rejected, planes.RejectedValues);
    }

    [Fact]
    public void Measures_each_frames_background_and_source_variance()
    {
        // Background pixels of variance 2, sources whose variance adds 0.5 per unit flux.
        var random = new Random(3);
        var flux = Enumerable.Range(0, 10_000).Select(i => i % 50 == 0 ? (float)(100 + 1000 * random.NextDouble()) : (float)random.NextDouble()).ToArray();
        var variance = flux.Select(f => f > 50 ? 2 + 0.5f * f : 2f).ToArray();

        var noise = FrameNoise.Of(new CoaddLayer(flux, variance, Enumerable.Repeat(1f, flux.Length).ToArray(), gridWidth: 100));

        Assert.Equal(2, noise.Background, 6);
        Assert.Equal(0.5, noise.PerFlux, 6);
    }
}
