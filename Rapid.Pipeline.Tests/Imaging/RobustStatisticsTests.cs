using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Tests.Imaging;

public class RobustStatisticsTests
{
    [Fact]
    public void Median_of_odd_and_even_samples_ignores_nan()
    {
        Assert.Equal(3.0, RobustStatistics.Median([5, 1, float.NaN, 3, 4, 2]));
        Assert.Equal(2.5, RobustStatistics.Median([4, 1, 3, 2]));
        Assert.True(double.IsNaN(RobustStatistics.Median([float.NaN])));
    }

    [Fact]
    public void Median_matches_sorting_on_random_samples()
    {
        var random = new Random(3);
        for (var n = 1; n < 60; n++)
        {
            var values = Enumerable.Range(0, n).Select(_ => (float)random.Next(0, 10)).ToArray();
            var sorted = values.Order().ToArray();
            var expected = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
            Assert.Equal(expected, RobustStatistics.Median(values));
        }
    }

    [Fact]
    public void Percentile_interpolates_between_ranks()
    {
        float[] values = [0, 10, 20, 30, 40];
        Assert.Equal(0, RobustStatistics.Percentile(values, 0));
        Assert.Equal(5, RobustStatistics.Percentile(values, 12.5), 6);
        Assert.Equal(40, RobustStatistics.Percentile(values, 100));
    }

    [Fact]
    public void Sigma_clipping_rejects_outliers_and_recovers_the_noise()
    {
        var random = new Random(1);
        var values = Enumerable.Range(0, 10000).Select(_ => (float)(100 + 2 * Support.StarField.Normal(random))).ToArray();
        for (var i = 0; i < 200; i++) values[i] = 5000;
        var stats = RobustStatistics.SigmaClip(values);
        Assert.InRange(stats.Mean, 99.9, 100.1);
        Assert.InRange(stats.Median, 99.9, 100.1);
        Assert.InRange(stats.Sigma, 1.9, 2.1);
        Assert.True(stats.Count < 9850);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(4096)]
    [InlineData(20001)]
    public void Clipping_on_sorted_values_gives_the_statistics_of_clipping_by_selection(int n)
    {
        var random = new Random(n);
        var values = Enumerable.Range(0, n).Select(i => (float)(100 + 5 * Gaussian(random) + (i % 37 == 0 ? 400 * random.NextDouble() : 0))).ToArray();

        var ordered = (float[])values.Clone();
        RobustStatistics.RadixSort(ordered, new float[n]);
        var sorted = RobustStatistics.SigmaClipSorted(ordered, 3.0, 5);
        var selected = RobustStatistics.SigmaClipBySelection((float[])values.Clone(), new float[n], 3.0, 5);

        Assert.Equal(selected.Count, sorted.Count);
        Assert.Equal(selected.Median, sorted.Median);
        Assert.Equal(selected.Mean, sorted.Mean, 1e-9);
        Assert.Equal(selected.Sigma, sorted.Sigma, 1e-9);
    }

    [Fact]
    public void Radix_sort_orders_floats_as_comparison_does()
    {
        var random = new Random(8);
        foreach (var n in new[] { 0, 1, 2, 7, 1000, 100_003 })
        {
            var values = Enumerable.Range(0, n).Select(i => (i % 5) switch
            {
                0 => (float)(random.NextDouble() * 2e-6 - 1e-6),
                1 => (float)(random.NextDouble() * 2e6 - 1e6),
                2 => 0f,
                3 => 1e-40f * random.Next(-3, 4), // subnormals
                _ => (float)(100 + random.NextDouble()),
            }).ToArray();
            var expected = values.Order().ToArray();

            RobustStatistics.RadixSort(values, new float[n]);

            Assert.Equal(expected, values);
        }
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
