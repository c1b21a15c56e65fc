using Rapid.Pipeline.Fft;
using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Tests.Fft;

public sealed class FftConvolutionTests
{
    /// <summary>Direct convolution with the documented centring, zero outside the image.</summary>
    private static double[] Direct(float[] image, int w, int h, float[] kernel, int kw, int kh)
    {
        var result = new double[w * h];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                double sum = 0;
                for (var j = 0; j < kh; j++)
                    for (var i = 0; i < kw; i++)
                    {
                        var (sx, sy) = (x + kw / 2 - i, y + kh / 2 - j);
                        if (sx >= 0 && sx < w && sy >= 0 && sy < h) sum += kernel[j * kw + i] * image[sy * w + sx];
                    }
                result[y * w + x] = sum;
            }
        return result;
    }

    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 10 - 3)).ToArray();
    }

    [Theory]
    [InlineData(23, 17, 5, 3)]
    [InlineData(16, 16, 4, 4)]
    [InlineData(9, 30, 7, 11)]
    [InlineData(8, 8, 1, 1)]
    public void Matches_direct_convolution_including_the_edges(int w, int h, int kw, int kh)
    {
        var image = Random(w * h, 1);
        var kernel = Random(kw * kh, 2);

        var fast = FftConvolution.Convolve(image, w, h, kernel, kw, kh);
        var direct = Direct(image, w, h, kernel, kw, kh);

        for (var i = 0; i < fast.Length; i++) Assert.Equal(direct[i], fast[i], 2e-3);
    }

    [Fact]
    public void An_off_centre_delta_kernel_shifts_the_image()
    {
        var image = new FitsImage(12, 10);
        image[4, 5] = 7f;
        image.Header.Set("BAND", "F146");
        var kernel = new FitsImage(5, 5);
        kernel[3, 2] = 1f; // one pixel right of the centre (2, 2)

        var result = FftConvolution.Convolve(image, kernel);

        Assert.Equal(7f, result[5, 5], 1e-5);
        Assert.Equal(7f, result.Pixels.Sum(), 1e-4);
        Assert.Equal("F146", result.Header.GetString("BAND"));
    }

    [Fact]
    public void NaN_input_is_rejected_with_its_position()
    {
        var image = new float[16];
        image[5] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => FftConvolution.Convolve(image, 4, 4, [1f], 1, 1));
        Assert.Contains("index 5", e.Message);
    }
}
