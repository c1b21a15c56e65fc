namespace Rapid.Pipeline.Psf;

/// <summary>
/// A point-spread function as an odd Size x Size stamp (row-major, index = y * Size + x) summing to 1, whose centre
/// is the middle pixel (Size / 2, Size / 2), with its FWHM in pixels and how it was made.
/// </summary>
public sealed class PsfModel
{
    private readonly double[] _stamp;

    public PsfModel(double[] stamp, int size, double fwhmPixels, PsfMethod method, int starsUsed)
    {
        ArgumentNullException.ThrowIfNull(stamp);
        if (size < 3 || size % 2 == 0) throw new ArgumentException($"a PSF stamp must be odd-sized and at least 3 x 3, not {size} x {size}");
        if (stamp.Length != size * size) throw new ArgumentException($"the PSF stamp has {stamp.Length} values, not {size} x {size}");
        double sum = 0;
        foreach (var v in stamp)
        {
            if (!double.IsFinite(v)) throw new ArgumentException("the PSF stamp has a non-finite value");
            sum += v;
        }
        if (!(sum > 0)) throw new ArgumentException($"the PSF stamp sums to {sum}; it must be positive");
        _stamp = new double[stamp.Length];
        for (var i = 0; i < stamp.Length; i++) _stamp[i] = stamp[i] / sum;
        Size = size;
        FwhmPixels = fwhmPixels;
        Method = method;
        StarsUsed = starsUsed;
    }

    public int Size { get; }
    public int Centre => Size / 2;
    public double FwhmPixels { get; }
    public PsfMethod Method { get; }
    /// <summary>Stars whose stamps went into the model (0 for Given and GaussianFromDefault).</summary>
    public int StarsUsed { get; }
    /// <summary>True when the estimator fell back to an analytic profile (a warning for the manifest).</summary>
    public bool IsFallback => Method is PsfMethod.GaussianFromStars or PsfMethod.GaussianFromDefault;
    /// <summary>The normalised stamp (sum 1).</summary>
    public ReadOnlySpan<double> Stamp => _stamp;

    public double this[int x, int y] => _stamp[y * Size + x];

    /// <summary>A circular Gaussian of the given FWHM, point-sampled at pixel centres and normalised.</summary>
    public static PsfModel Gaussian(double fwhmPixels, int size, PsfMethod method = PsfMethod.Given, int starsUsed = 0)
    {
        if (!(fwhmPixels > 0)) throw new ArgumentException($"a Gaussian PSF needs a positive FWHM, not {fwhmPixels}");
        var s = fwhmPixels * PsfShape.SigmaPerFwhm;
        var c = size / 2;
        var stamp = new double[size * size];
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++) stamp[y * size + x] = Math.Exp(-((x - c) * (x - c) + (y - c) * (y - c)) / (2 * s * s));
        }
        return new PsfModel(stamp, size, fwhmPixels, method, starsUsed);
    }

    /// <summary>
    /// A model from a stamp supplied by the caller (e.g. a PSF FITS file) of any size: its windowed centroid is moved
    /// onto the middle pixel of an odd output stamp (Fourier phase shift), so an off-centre or even-sized stamp introduces no
    /// shift in the difference image; the FWHM is measured on the result.
    /// </summary>
    public static PsfModel FromStamp(float[] stamp, int width, int height, int? outputSize = null)
    {
        ArgumentNullException.ThrowIfNull(stamp);
        if (stamp.Length != (long)width * height) throw new ArgumentException($"the PSF stamp has {stamp.Length} values, not {width} x {height}");
        var size = outputSize ?? (Math.Max(width, height) | 1);
        // Peak as the start; a first window from the second moments' width.
        var (px, py, best) = (0, 0, float.NegativeInfinity);
        for (var i = 0; i < stamp.Length; i++)
        {
            if (stamp[i] > best) (best, px, py) = (stamp[i], i % width, i / width);
        }
        if (!(best > 0)) throw new ArgumentException("the PSF stamp has no positive value");
        // Pad so the centroid window and the Lanczos taps stay inside.
        var pad = Fft.FftSizes.NextFriendly(size + 16) / 2 + 8;
        var (pw, ph) = (width + 2 * pad, height + 2 * pad);
        var padded = new float[pw * ph];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var v = stamp[y * width + x];
                if (!float.IsFinite(v)) throw new ArgumentException($"the PSF stamp has a non-finite value at ({x}, {y})");
                padded[(y + pad) * pw + x + pad] = v;
            }
        }
        var window = Math.Max(MomentFwhm(stamp, width, height, px, py), 1.5);
        var centre = PsfShape.WindowedCentroid(padded, pw, ph, px + pad, py + pad, window)
            ?? throw new ArgumentException("the PSF stamp has no measurable centroid");
        var c = size / 2;
        var shifted = FourierShift.Cut(padded, pw, ph, centre.X, centre.Y, size)
            ?? throw new ArgumentException("the PSF stamp's centroid is too far from its middle");
        var normalised = new PsfModel(shifted, size, 1, PsfMethod.Given, 0);
        return new PsfModel(shifted, size, PsfShape.HalfMaximumFwhm(normalised.Stamp, size), PsfMethod.Given, 0);
    }

    /// <summary>
    /// The stamp embedded in a zero Width x Height array (row-major, double) with its centre at pixel (0, 0) and
    /// negative offsets wrapped to the far ends (numpy's ifftshift), so its Fourier transform carries no phase ramp.
    /// </summary>
    public double[] EmbedCentred(int width, int height)
    {
        if (width < Size || height < Size) throw new ArgumentException($"a {width} x {height} array cannot hold the {Size} x {Size} PSF");
        var result = new double[(long)width * height];
        var c = Centre;
        for (var j = 0; j < Size; j++)
        {
            var y = (j - c + height) % height;
            for (var i = 0; i < Size; i++) result[(long)y * width + (i - c + width) % width] = _stamp[j * Size + i];
        }
        return result;
    }

    /// <summary>The same in float32 into <paramref name="target"/> (Width x Height, cleared first), for single-precision transforms.</summary>
    public float[] EmbedCentred(int width, int height, float[] target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (width < Size || height < Size) throw new ArgumentException($"a {width} x {height} array cannot hold the {Size} x {Size} PSF");
        if (target.Length != (long)width * height) throw new ArgumentException($"the target has {target.Length} values, not {width} x {height}");
        Array.Clear(target);
        var c = Centre;
        for (var j = 0; j < Size; j++)
        {
            var y = (j - c + height) % height;
            for (var i = 0; i < Size; i++) target[(long)y * width + (i - c + width) % width] = (float)_stamp[j * Size + i];
        }
        return target;
    }

    /// <summary>FWHM from the second moments about the peak, as for a Gaussian; a rough window for the centroid.</summary>
    private static double MomentFwhm(float[] stamp, int width, int height, int px, int py)
    {
        double s = 0, s2 = 0;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var v = Math.Max(stamp[y * width + x], 0);
                s += v;
                s2 += v * ((x - px) * (x - px) + (y - py) * (y - py));
            }
        }
        return s > 0 ? Math.Sqrt(s2 / s / 2) / PsfShape.SigmaPerFwhm : 2;
    }
}
