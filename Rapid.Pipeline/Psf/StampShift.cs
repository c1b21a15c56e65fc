using Rapid.Pipeline.Resampling;

namespace Rapid.Pipeline.Psf;

/// <summary>
/// Sub-pixel resampling of small stamps (row-major, index = y * width + x, 0-based pixel centres) with the separable
/// Lanczos-3 kernel, weights renormalised to unit sum per axis so a constant stays constant.
/// </summary>
internal static class StampShift
{
    /// <summary>
    /// Samples source at (x0 + i, y0 + j) for i, j in [0, size): out(i, j) = source interpolated at that point.
    /// Taps outside the source or on NaN count as missing; a missing tap makes the output NaN.
    /// </summary>
    public static double[] Sample(ReadOnlySpan<float> source, int width, int height, double x0, double y0, int size)
    {
        var result = new double[size * size];
        Span<double> wx = stackalloc double[6];
        Span<double> wy = stackalloc double[6];
        var fx = Math.Floor(x0);
        var fy = Math.Floor(y0);
        Weights(x0 - fx, wx);
        Weights(y0 - fy, wy);
        for (var j = 0; j < size; j++)
        {
            var by = (int)fy + j - 2;
            for (var i = 0; i < size; i++)
            {
                var bx = (int)fx + i - 2;
                double sum = 0;
                for (var b = 0; b < 6 && !double.IsNaN(sum); b++)
                {
                    var y = by + b;
                    if (y < 0 || y >= height) { sum = double.NaN; break; }
                    for (var a = 0; a < 6; a++)
                    {
                        var x = bx + a;
                        if (x < 0 || x >= width) { sum = double.NaN; break; }
                        sum += wy[b] * wx[a] * source[y * width + x];
                    }
                }
                result[j * size + i] = sum;
            }
        }
        return result;
    }

    /// <summary>The stamp value interpolated at a fractional 0-based position; NaN where taps fall outside.</summary>
    public static double At(ReadOnlySpan<double> stamp, int size, double x, double y)
    {
        Span<double> wx = stackalloc double[6];
        Span<double> wy = stackalloc double[6];
        var fx = Math.Floor(x);
        var fy = Math.Floor(y);
        Weights(x - fx, wx);
        Weights(y - fy, wy);
        double sum = 0;
        for (var b = 0; b < 6; b++)
        {
            var yy = (int)fy - 2 + b;
            if (yy < 0 || yy >= size) { if (Math.Abs(wy[b]) > 1e-9) return double.NaN; continue; }
            for (var a = 0; a < 6; a++)
            {
                var xx = (int)fx - 2 + a;
                if (xx < 0 || xx >= size) { if (Math.Abs(wx[a]) > 1e-9) return double.NaN; continue; }
                sum += wy[b] * wx[a] * stamp[yy * size + xx];
            }
        }
        return sum;
    }

    /// <summary>The 6 normalised weights for taps floor(p) - 2 .. floor(p) + 3 given frac = p - floor(p).</summary>
    private static void Weights(double frac, Span<double> weights)
    {
        double total = 0;
        for (var k = 0; k < 6; k++) total += weights[k] = LanczosKernel.Exact(frac + 2 - k);
        for (var k = 0; k < 6; k++) weights[k] /= total;
    }
}

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
        var (x0, y0) = (ix - box / 2, iy - box / 2);
        if (x0 < 0 || y0 < 0 || x0 + box > width || y0 + box > height) return null;
        var values = new double[box * box];
        for (var j = 0; j < box; j++)
        {
            for (var i = 0; i < box; i++)
            {
                var v = image[(y0 + j) * width + x0 + i];
                if (float.IsNaN(v)) return null;
                values[j * box + i] = v;
            }
        }
        var shifted = Shift(values, box, x - ix, y - iy);
        var result = new double[size * size];
        var offset = box / 2 - size / 2;
        for (var j = 0; j < size; j++) Array.Copy(shifted, (j + offset) * box + offset, result, j * size, size);
        return result;
    }
}
