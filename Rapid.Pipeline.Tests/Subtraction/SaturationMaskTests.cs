using Rapid.Pipeline.Subtraction;

namespace Rapid.Pipeline.Tests.Subtraction;

public class SaturationMaskTests
{
    // Few marks take the box-painting path, many the separable passes: both must give the same dilation.
    [Theory]
    [InlineData(0, 25)]
    [InlineData(1, 25)]
    [InlineData(1, 1500)]
    [InlineData(3, 5)]
    [InlineData(3, 25)]
    [InlineData(7, 1)]
    [InlineData(7, 25)]
    public void Grows_every_marked_pixel_by_the_radius_in_both_axes(int radius, int marks)
    {
        const int width = 97, height = 61;
        var random = new Random(radius + marks);
        var marked = new bool[width * height];
        for (var k = 0; k < marks; k++) marked[random.Next(marked.Length)] = true;
        marked[0] = marked[^1] = true;

        var grown = SaturationMask.Grow(marked, width, height, radius)!;

        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var expected = false;
                for (var j = Math.Max(0, y - radius); j <= Math.Min(height - 1, y + radius) && !expected; j++)
                    for (var i = Math.Max(0, x - radius); i <= Math.Min(width - 1, x + radius) && !expected; i++)
                        expected = marked[j * width + i];
                Assert.True(expected == grown[y * width + x], $"pixel ({x}, {y})");
            }
    }

    [Fact]
    public void Without_a_mask_returns_null() => Assert.Null(SaturationMask.Grow(null, 10, 10, 3));
}
