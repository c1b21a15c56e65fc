using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Tests.Psf;

public class RadialWingsTests
{
    [Fact]
    public void Keeps_the_core_and_replaces_noisy_wings_by_their_azimuthal_average()
    {
        const int size = 35, c = size / 2;
        var random = new Random(4);
        var stamp = new double[size * size];
        double Profile(double r) => Math.Pow(1 + r * r / 2.0, -2.5);
        for (var j = 0; j < size; j++)
            for (var i = 0; i < size; i++)
            {
                var r = Math.Sqrt((i - c) * (i - c) + (j - c) * (j - c));
                stamp[j * size + i] = Profile(r) + (r > 4 ? 2e-3 * (random.NextDouble() - 0.5) : 0);
            }
        var core = stamp[c * size + c + 2];

        RadialWings.Smooth(stamp, size, radius: 4);

        Assert.Equal(core, stamp[c * size + c + 2]);
        // Beyond the radius the noise (±1e-3) is averaged down to the annulus mean, close to the profile.
        for (var j = 0; j < size; j++)
            for (var i = 0; i < size; i++)
            {
                var r = Math.Sqrt((i - c) * (i - c) + (j - c) * (j - c));
                if (r < 6) continue;
                Assert.True(Math.Abs(stamp[j * size + i] - Profile(r)) < 4e-4, $"({i}, {j}) at r = {r:F1}: {stamp[j * size + i]:G4} against {Profile(r):G4}");
            }
    }
}
