using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Tests.Support;

namespace Rapid.Pipeline.Tests.Imaging;

public class MeshBackgroundEstimatorTests
{
    private const int Size = 256;

    [Fact]
    public void Recovers_a_sloped_sky_under_stars_and_noise()
    {
        var random = new Random(7);
        var image = new float[Size * Size];
        for (var y = 0; y < Size; y++)
            for (var x = 0; x < Size; x++)
                image[y * Size + x] = (float)(50 + 0.1 * x + 0.05 * y);
        for (var i = 0; i < 60; i++)
            StarField.AddGaussian(image, Size, Size, random.Next(5, Size - 5), random.Next(5, Size - 5), 5000, 1.5);
        StarField.AddNoise(image, 3, random);

        var map = new MeshBackgroundEstimator(32).Estimate(image, Size, Size);

        for (var y = 40; y < Size - 40; y += 17)
            for (var x = 40; x < Size - 40; x += 13)
                Assert.InRange(map.Background[y * Size + x] - (50 + 0.1 * x + 0.05 * y), -1.0, 1.0);
        Assert.InRange(map.GlobalRms, 2.7, 3.4);
    }

    [Fact]
    public void Fills_meshes_that_are_all_nan_from_their_neighbours()
    {
        var image = StarField.Constant(Size * Size, 10f);
        for (var y = 0; y < 64; y++)
            for (var x = 0; x < 64; x++)
                image[y * Size + x] = float.NaN;

        var map = new MeshBackgroundEstimator(32).Estimate(image, Size, Size);

        Assert.All(map.Background, v => Assert.Equal(10f, v, 3));
        Assert.True(float.IsNaN(map.Subtract(image)[0]));
    }
}
