using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Tests.Imaging;

public class ClippedWeightedCoaddTests
{
    private static CoaddLayer Layer(float flux, float variance, float coverage = 1) => new([flux], [variance], [coverage]);

    [Fact]
    public void Weights_inputs_by_inverse_variance()
    {
        var planes = new ClippedWeightedCoadd().Combine([Layer(10, 1), Layer(20, 4)], 1);

        Assert.Equal((10 * 1 + 20 * 0.25) / 1.25, planes.Image[0], 4);
        Assert.Equal(Math.Sqrt(1 / 1.25), planes.Uncertainty[0], 4);
        Assert.Equal(2, planes.Coverage[0]);
    }

    [Fact]
    public void Rejects_a_cosmic_ray_in_one_input()
    {
        var planes = new ClippedWeightedCoadd(3.0).Combine([Layer(100, 4), Layer(102, 4), Layer(98, 4), Layer(5000, 4)], 1);

        Assert.Equal(100, planes.Image[0], 3);
        Assert.Equal(3, planes.Coverage[0]);
        Assert.Equal(1, planes.RejectedValues);
    }

    [Fact]
    public void Skips_inputs_without_data_and_marks_uncovered_pixels_nan()
    {
        var layers = new[]
        {
            new CoaddLayer([1, float.NaN], [1, 1], [1, 0]),
            new CoaddLayer([3, float.NaN], [1, 1], [0.5f, 0]),
        };

        var planes = new ClippedWeightedCoadd().Combine(layers, 2);

        Assert.Equal(2, planes.Image[0], 4);
        Assert.Equal(1.5, planes.Coverage[0], 4);
        Assert.True(float.IsNaN(planes.Image[1]));
        Assert.Equal(0, planes.Coverage[1]);
    }
}
