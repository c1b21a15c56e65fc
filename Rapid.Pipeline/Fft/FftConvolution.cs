using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Fft;

/// <summary>
/// Linear (not circular) 2-D convolution through FFTW: both arrays are zero-padded to a 7-smooth size of at least
/// image + kernel - 1 in each axis, so nothing wraps around; outside the image counts as zero.
/// The kernel is centred: its element (kernelWidth / 2, kernelHeight / 2) (integer division) is the origin, so an odd
/// kernel is centred on its middle pixel and the output has the image's size:
/// out(x, y) = sum over (i, j) of kernel(i, j) * image(x + kernelWidth / 2 - i, y + kernelHeight / 2 - j).
/// </summary>
public static class FftConvolution
{
    /// <summary>The convolved image with a copy of the image's header.</summary>
    public static FitsImage Convolve(FitsImage image, FitsImage kernel)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(kernel);
        var pixels = Convolve(image.Pixels, image.Width, image.Height, kernel.Pixels, kernel.Width, kernel.Height);
        return new FitsImage(image.Width, image.Height, pixels, image.Header.Clone());
    }

    /// <summary>Row-major arrays (index = y * width + x); every value must be finite (a NaN would spread over the whole result).</summary>
    public static float[] Convolve(float[] image, int width, int height, float[] kernel, int kernelWidth, int kernelHeight)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(kernel);
        if (image.Length != (long)width * height) throw new ArgumentException($"the image has {image.Length} values, not {width} x {height}");
        if (kernel.Length != (long)kernelWidth * kernelHeight) throw new ArgumentException($"the kernel has {kernel.Length} values, not {kernelWidth} x {kernelHeight}");
        RequireFinite(image, "image");
        RequireFinite(kernel, "kernel");

        var pw = FftSizes.NextFriendly(width + kernelWidth - 1);
        var ph = FftSizes.NextFriendly(height + kernelHeight - 1);
        var (cx, cy) = (kernelWidth / 2, kernelHeight / 2);

        var paddedImage = new float[(long)pw * ph];
        for (var y = 0; y < height; y++) image.AsSpan(y * width, width).CopyTo(paddedImage.AsSpan(y * pw, width));
        // The kernel origin goes to (0, 0), negative offsets wrap to the far end.
        var paddedKernel = new float[(long)pw * ph];
        for (var j = 0; j < kernelHeight; j++)
        {
            var py = (j - cy + ph) % ph;
            for (var i = 0; i < kernelWidth; i++) paddedKernel[py * pw + (i - cx + pw) % pw] = kernel[j * kernelWidth + i];
        }

        using var fft = new Fft2D(pw, ph);
        var a = new float[fft.SpectrumLength];
        var b = new float[fft.SpectrumLength];
        fft.Forward(paddedImage, a);
        fft.Forward(paddedKernel, b);
        for (var k = 0; k < a.Length; k += 2)
        {
            var (re, im) = (a[k] * b[k] - a[k + 1] * b[k + 1], a[k] * b[k + 1] + a[k + 1] * b[k]);
            a[k] = re;
            a[k + 1] = im;
        }
        fft.Inverse(a, paddedImage);

        var result = new float[image.Length];
        for (var y = 0; y < height; y++) paddedImage.AsSpan(y * pw, width).CopyTo(result.AsSpan(y * width, width));
        return result;
    }

    private static void RequireFinite(float[] values, string what)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) throw new ArgumentException($"the {what} has a non-finite value {values[i]} at index {i}; replace NaN/Inf before convolving");
        }
    }
}
