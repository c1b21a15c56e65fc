using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Tests.Imaging;

public class ClippedWeightedCoaddTests
{
    private static CoaddLayer Layer(float flux, float variance, float coverage = 1) => new([flux], [variance], [coverage], gridWidth: 1);

    [Fact]
    public void Weights_inputs_by_inverse_variance()
    {
        var planes = new ClippedWeightedCoadd().Combine([Layer(10, 1), Layer(20, 4)], 1, 1);

        Assert.Equal((10 * 1 + 20 * 0.25) / 1.25, planes.Image[0], 4);
        Assert.Equal(Math.Sqrt(1 / 1.25), planes.Uncertainty[0], 4);
        Assert.Equal(2, planes.Coverage[0]);
    }

    [Fact]
    public void Rejects_a_cosmic_ray_in_one_input()
    {
        var planes = new ClippedWeightedCoadd(3.0).Combine([Layer(100, 4), Layer(102, 4), Layer(98, 4), Layer(5000, 4)], 1, 1);

        Assert.Equal(100, planes.Image[0], 3);
        Assert.Equal(3, planes.Coverage[0]);
        Assert.Equal(1, planes.RejectedValues);
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
}
