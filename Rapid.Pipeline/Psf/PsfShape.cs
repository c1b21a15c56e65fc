namespace Rapid.Pipeline.Psf;

/// <summary>Centres and widths of star images and PSF stamps (0-based pixel coordinates, pixel centres at integers).</summary>
public static class PsfShape
{
    /// <summary>Gaussian sigma per unit FWHM: 1 / (2 sqrt(2 ln 2)).</summary>
    public const double SigmaPerFwhm = 0.42466090014400953;

    /// <summary>
    /// The Gaussian-windowed centroid of SExtractor's XWIN/YWIN (Bertin, SExtractor manual, "windowed positions"):
    /// iterates x += 2 sum(w I dx) / sum(w I) with w = exp(-r^2 / (2 s^2)), s = windowFwhm * SigmaPerFwhm, over a box
    /// of half-size ceil(4 s). It converges on the centre of a symmetric profile. Returns null when the window leaves
    /// the image, meets NaN, or the weighted flux is not positive.
    /// </summary>
    public static (double X, double Y)? WindowedCentroid(ReadOnlySpan<float> image, int width, int height, double x, double y, double windowFwhm)
    {
        var s = Math.Max(windowFwhm * SigmaPerFwhm, 0.5);
        var half = (int)Math.Ceiling(4 * s);
        var (x0, y0) = (x, y);
        for (var iteration = 0; iteration < 30; iteration++)
        {
            var (ix, iy) = ((int)Math.Round(x), (int)Math.Round(y));
            if (ix - half < 0 || iy - half < 0 || ix + half >= width || iy + half >= height) return null;
            double sw = 0, sx = 0, sy = 0;
            for (var j = iy - half; j <= iy + half; j++)
            {
                for (var i = ix - half; i <= ix + half; i++)
                {
                    var v = image[j * width + i];
                    if (float.IsNaN(v)) return null;
                    var (dx, dy) = (i - x, j - y);
                    var w = Math.Exp(-(dx * dx + dy * dy) / (2 * s * s)) * v;
                    sw += w;
                    sx += w * dx;
                    sy += w * dy;
                }
            }
            if (!(sw > 0)) return null;
            var (stepX, stepY) = (2 * sx / sw, 2 * sy / sw);
            x += stepX;
            y += stepY;
            if (Math.Abs(x - x0) > half || Math.Abs(y - y0) > half) return null;
            if (stepX * stepX + stepY * stepY < 1e-8) break;
        }
        return (x, y);
    }

    /// <summary>
    /// The FWHM in pixels of a stamp centred on its middle pixel (size odd): twice the radius where the azimuthally
    /// averaged, Lanczos-interpolated profile first falls to half the central value. NaN if it never does.
    /// </summary>
    public static double HalfMaximumFwhm(ReadOnlySpan<double> stamp, int size)
    {
        var c = size / 2;
        var peak = stamp[c * size + c];
        if (!(peak > 0)) return double.NaN;
        const int directions = 24;
        const double step = 0.01;
        var previous = peak;
        for (var r = step; r < c - 3; r += step)
        {
            double sum = 0;
            for (var k = 0; k < directions; k++)
            {
                var angle = 2 * Math.PI * k / directions;
                sum += StampInterpolation.At(stamp, size, c + r * Math.Cos(angle), c + r * Math.Sin(angle));
            }
            var value = sum / directions;
            if (value <= peak / 2)
            {
                var rHalf = r - step * (peak / 2 - value) / (previous - value);
                return 2 * rHalf;
            }
            previous = value;
        }
        return double.NaN;
    }
}
