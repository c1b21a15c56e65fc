using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Tests.Psf;

public class OrderStatisticsTests
{
    [Fact]
    public void Sort_orders_doubles_as_the_framework_sort_does_NaNs_first()
    {
        var random = new Random(11);
        foreach (var n in new[] { 0, 1, 2, 7, 255, 256, 1000, 20_001 })
        {
            var values = Enumerable.Range(0, n).Select(i => (i % 6) switch
            {
                0 => random.NextDouble() * 2e-6 - 1e-6,
                1 => random.NextDouble() * 2e6 - 1e6,
                2 => 1e-310 * random.Next(1, 4), // subnormals
                3 => i % 12 == 3 ? double.NaN : -1e-310 * random.Next(1, 4),
                4 => i % 24 == 4 ? double.NegativeInfinity : double.PositiveInfinity,
                _ => 100 + random.NextDouble(),
            }).ToArray();
            var expected = (double[])values.Clone();
            Array.Sort(expected);

            OrderStatistics.Sort(values);

            Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits).Select((b, i) => double.IsNaN(expected[i]) ? 0 : b),
                values.Select(BitConverter.DoubleToInt64Bits).Select((b, i) => double.IsNaN(values[i]) ? 0 : b));
        }
    }

    [Theory]
    [InlineData(1, 0.5)]
    [InlineData(2, 3.0)]
    [InlineData(255, 25.0)]
    [InlineData(1000, 25.5)]
    [InlineData(1001, -3.0)]
    [InlineData(1001, 70.0)]
    public void The_median_absolute_deviation_of_sorted_values_is_that_of_the_sorted_deviations(int n, double centre)
    {
        var random = new Random(n);
        var values = Enumerable.Range(0, n).Select(_ => Math.Round(random.NextDouble() * 50)).ToArray(); // ties
        Array.Sort(values);
        var deviations = values.Select(v => Math.Abs(v - centre)).ToArray();
        Array.Sort(deviations);

        Assert.Equal(OrderStatistics.MedianOfSorted(deviations), OrderStatistics.MedianAbsoluteDeviationOfSorted(values, centre));
    }

    [Fact]
    public void ClippedMedian_rejects_outliers_and_returns_the_inliers_median()
    {
        // Uniform inliers on [-1, 1] (sigma 0.58: a 3-sigma clip about their median keeps them all) and 50 outliers at
        // 100, which the first round's sigma (~21) already rejects.
        var random = new Random(5);
        var inliers = Enumerable.Range(0, 1001).Select(_ => 2 * random.NextDouble() - 1).ToArray();
        var values = inliers.Concat(Enumerable.Repeat(100.0, 50)).OrderBy(_ => random.Next()).ToArray();
        var sorted = (double[])inliers.Clone();
        Array.Sort(sorted);

        Assert.Equal(sorted[500], OrderStatistics.ClippedMedian(values, 3));
    }

    [Fact]
    public void PooledMedians_give_each_sample_its_clipped_median_and_the_standard_error_of_a_median()
    {
        var random = new Random(2);
        var gaussian = Enumerable.Range(0, 20_000).Select(_ =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())).ToArray();

        var (medians, errors) = OrderStatistics.PooledMedians([gaussian, [], [4.0]], 3);

        // sqrt(pi / 2) sigma / sqrt(n) for unit sigma: 0.00886.
        Assert.Equal(0, medians[0], 0.03);
        Assert.Equal(Math.Sqrt(Math.PI / 2) / Math.Sqrt(20_000), errors[0], 0.0005);
        Assert.True(double.IsNaN(medians[1]) && double.IsNaN(errors[1]));
        Assert.Equal(4.0, medians[2]);
        Assert.True(double.IsNaN(errors[2]));
    }
}
