using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Tests.Support;

namespace Rapid.Pipeline.Tests.Imaging;

public class AperturePhotometryTests
{
    private const int Size = 64;

    [Fact]
    public void Measures_the_flux_of_a_gaussian_and_the_error_from_the_variance()
    {
        var image = new float[Size * Size];
        StarField.AddGaussian(image, Size, Size, 32.2, 31.7, 1000, 1.5);
        var variance = StarField.Constant(Size * Size, 4f);

        var result = AperturePhotometry.Measure(image, variance, Size, Size, 32.2, 31.7, 6);

        Assert.InRange(result.Flux, 995, 1001);
        var pixels = 0;
        for (var y = 0; y < Size; y++) for (var x = 0; x < Size; x++) if ((x - 32.2) * (x - 32.2) + (y - 31.7) * (y - 31.7) <= 36) pixels++;
        Assert.Equal(Math.Sqrt(4.0 * pixels), result.FluxError, 6);
        Assert.Equal(0, result.Flags);
    }

    [Fact]
    public void Flags_masked_and_truncated_apertures()
    {
        var image = StarField.Constant(Size * Size, 1f);
        var variance = StarField.Constant(Size * Size, 1f);
        image[10 * Size + 10] = float.NaN;

        var masked = AperturePhotometry.Measure(image, variance, Size, Size, 10, 10, 3);
        var truncated = AperturePhotometry.Measure(image, variance, Size, Size, 0, 30, 3);

        Assert.Equal((int)PhotometryFlags.MaskedPixels, masked.Flags);
        Assert.Equal(29, masked.Flux, 6); // 29 pixels in r=3, the masked one replaced by scaling
        Assert.Equal((int)PhotometryFlags.Truncated, truncated.Flags);
    }
}
