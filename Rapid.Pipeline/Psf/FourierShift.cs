namespace Rapid.Pipeline.Psf;

/// <summary>
/// Exact (band-limited) sub-pixel shifts of square stamps by a Fourier phase ramp (the shift theorem), for PSFs
/// that are well sampled; the Nyquist terms of even sizes keep only their real part so the result stays real.
/// </summary>
internal static class FourierShift
{
    /// <summary>out(i, j) = stamp interpolated at (i + dx, j + dy), periodic in the stamp (pad with margin to avoid wrap-around).</summary>
    public static double[] Shift(double[] stamp, int size, double dx, double dy)
    {
        using var fft = new Fft.Fft2DDouble(size, size);
        var spectrum = new double[fft.SpectrumLength];
        fft.Forward(stamp, spectrum);
        var half = fft.SpectrumWidth;
        Span<double> cx = stackalloc double[half], sx = stackalloc double[half];
        for (var kx = 0; kx < half; kx++)
        {
            var angle = 2 * Math.PI * kx * dx / size;
            cx[kx] = Math.Cos(angle);
            sx[kx] = size % 2 == 0 && kx == size / 2 ? 0 : Math.Sin(angle);
        }
        for (var ky = 0; ky < size; ky++)
        {
            var signed = ky <= size / 2 ? ky : ky - size;
            var angle = 2 * Math.PI * signed * dy / size;
            var (cy, sy) = (Math.Cos(angle), size % 2 == 0 && ky == size / 2 ? 0 : Math.Sin(angle));
            for (var kx = 0; kx < half; kx++)
            {
                var (pr, pi) = (cx[kx] * cy - sx[kx] * sy, cx[kx] * sy + sx[kx] * cy);
                var k = 2 * (ky * half + kx);
                var (re, im) = (spectrum[k], spectrum[k + 1]);
                spectrum[k] = re * pr - im * pi;
                spectrum[k + 1] = re * pi + im * pr;
            }
        }
        var result = new double[size * size];
        fft.Inverse(spectrum, result);
        return result;
    }

    /// <summary>
    /// A size x size stamp of image whose middle pixel samples the image at (x, y) (0-based): a box with a margin of 8
    /// pixels is cut at the nearest integer centre, phase-shifted by the fraction, and cropped. Null when the box
    /// leaves the image or holds NaN.
    /// </summary>
    public static double[]? Cut(ReadOnlySpan<float> image, int width, int height, double x, double y, int size)
    {
        const int margin = 8;
        var box = Fft.FftSizes.NextFriendly(size + 2 * margin);
        var (ix, iy) = ((int)Math.Round(x), (int)Math.Round(y));
        if (ImageBox.Copy(image, width, height, ix, iy, box) is not { } values) return null;
        var shifted = Shift(values, box, x - ix, y - iy);
        var result = new double[size * size];
        var offset = box / 2 - size / 2;
        for (var j = 0; j < size; j++) Array.Copy(shifted, (j + offset) * box + offset, result, j * size, size);
        return result;
    }
}
