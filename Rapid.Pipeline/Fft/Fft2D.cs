namespace Rapid.Pipeline.Fft;

/// <summary>
/// Real 2-D discrete Fourier transforms of a Width x Height float image (row-major, index = y * Width + x) with FFTW.
/// The spectrum holds the non-redundant half: Height rows of <see cref="SpectrumWidth"/> = Width / 2 + 1 complex
/// values, interleaved (re, im), so its length is Height * SpectrumWidth * 2; element (kx, ky) is at
/// 2 * (ky * SpectrumWidth + kx).
/// Normalisation (numpy's "backward" convention): Forward computes F(k) = sum_x f(x) exp(-2 pi i k.x / N) without
/// scaling; Inverse divides by N = Width * Height, so Inverse(Forward(f)) = f.
/// Plans are shared per size (see FftwPlans); each instance owns aligned native buffers and serialises its own calls,
/// so one instance may be used from several threads (one at a time); use one instance per thread for parallel work.
/// </summary>
public sealed unsafe class Fft2D : IDisposable
{
    private readonly IntPtr _forward, _inverse;
    private readonly object _gate = new();
    private float* _real, _complex;

    public Fft2D(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        Width = width;
        Height = height;
        if (SpectrumLength > Array.MaxLength) throw new ArgumentException($"a {width} x {height} transform is too large for one array");
        _forward = FftwPlans.Get(isDouble: false, forward: true, width, height);
        _inverse = FftwPlans.Get(isDouble: false, forward: false, width, height);
        _real = (float*)FftwNative.fftwf_malloc((nuint)(RealLength * sizeof(float)));
        _complex = (float*)FftwNative.fftwf_malloc((nuint)(SpectrumLength * sizeof(float)));
        if (_real == null || _complex == null) { Dispose(); throw new OutOfMemoryException($"FFTW could not allocate buffers for a {width} x {height} transform"); }
    }

    ~Fft2D() => Free();

    public int Width { get; }

    public int Height { get; }

    /// <summary>Complex values per spectrum row: Width / 2 + 1.</summary>
    public int SpectrumWidth => Width / 2 + 1;

    /// <summary>Floats in an image: Width * Height.</summary>
    public long RealLength => (long)Width * Height;

    /// <summary>Floats in a spectrum (interleaved re, im): Height * SpectrumWidth * 2.</summary>
    public long SpectrumLength => (long)Height * SpectrumWidth * 2;

    /// <summary>The unnormalised forward transform of image into spectrum.</summary>
    public void Forward(ReadOnlySpan<float> image, Span<float> spectrum)
    {
        Check(image.Length, RealLength, "image");
        Check(spectrum.Length, SpectrumLength, "spectrum");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_real == null, this);
            image.CopyTo(new Span<float>(_real, (int)RealLength));
            FftwNative.fftwf_execute_dft_r2c(_forward, _real, _complex);
            new ReadOnlySpan<float>(_complex, (int)SpectrumLength).CopyTo(spectrum);
        }
    }

    /// <summary>The inverse transform of spectrum into image, divided by Width * Height. The spectrum is not modified.</summary>
    public void Inverse(ReadOnlySpan<float> spectrum, Span<float> image)
    {
        Check(spectrum.Length, SpectrumLength, "spectrum");
        Check(image.Length, RealLength, "image");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_real == null, this);
            // c2r overwrites its input, hence the copy into our own buffer.
            spectrum.CopyTo(new Span<float>(_complex, (int)SpectrumLength));
            FftwNative.fftwf_execute_dft_c2r(_inverse, _complex, _real);
            var scale = 1.0f / RealLength;
            var src = new ReadOnlySpan<float>(_real, (int)RealLength);
            for (var i = 0; i < src.Length; i++) image[i] = src[i] * scale;
        }
    }

    /// <summary>
    /// The unnormalised forward transform of an image buffer (RealLength) into a spectrum buffer (SpectrumLength),
    /// executed on them directly (no copies, no lock: FFTW's new-array execute is thread-safe). The image is not modified.
    /// </summary>
    internal void Forward(FftwBuffer image, FftwBuffer spectrum)
    {
        Check(image.Length, RealLength, "image");
        Check(spectrum.Length, SpectrumLength, "spectrum");
        FftwNative.fftwf_execute_dft_r2c(_forward, image.Pointer, spectrum.Pointer);
    }

    /// <summary>
    /// The same as <see cref="Forward(FftwBuffer, FftwBuffer)"/> for an image that is zero except in rows 0..reach and
    /// Height - reach..Height - 1 (a kernel centred on (0, 0), wrapped): the 1-D row transforms of the zero rows are zero,
    /// so only those 2 reach + 1 rows are transformed before the column transforms, about half the work of a full
    /// transform. Exact, not an approximation: the same DFT, summed in the same row-column order.
    /// </summary>
    internal void ForwardCompact(FftwBuffer image, int reach, FftwBuffer spectrum)
    {
        Check(image.Length, RealLength, "image");
        Check(spectrum.Length, SpectrumLength, "spectrum");
        if (reach < 0 || 2 * reach + 2 > Height) { Forward(image, spectrum); return; }
        var count = reach + 1;
        var rows = FftwPlans.GetCompact(rows: true, Width, Height, count);
        var columns = FftwPlans.GetCompact(rows: false, Width, Height, 0);
        var rowLength = 2L * SpectrumWidth;
        var img = image.Pointer;
        var spec = spectrum.Pointer;
        // Rows 0..reach, and Height - count..Height - 1 (row Height - count is zero in the image; it keeps one plan for both blocks).
        FftwNative.fftwf_execute_dft_r2c(rows, img, spec);
        FftwNative.fftwf_execute_dft_r2c(rows, img + (long)(Height - count) * Width, spec + (Height - count) * rowLength);
        spectrum.Span.Slice((int)(count * rowLength), (int)((Height - 2 * count) * rowLength)).Clear();
        FftwNative.fftwf_execute_dft(columns, spec, spec);
    }

    /// <summary>
    /// Zeroes the rows of an image buffer that <see cref="ForwardCompact"/> reads for this reach (every row when it would
    /// fall back to the full transform): before a kernel is written into a reused buffer, the rows in between, never
    /// read, need not be cleared (two thirds of a 4116² buffer's 68 MB, four times per subtraction).
    /// </summary>
    internal void ClearCompactRows(FftwBuffer image, int reach)
    {
        Check(image.Length, RealLength, "image");
        if (reach < 0 || 2 * reach + 2 > Height)
        {
            image.Span.Clear();
            return;
        }
        var count = reach + 1;
        image.Slice(0, count * Width).Clear();
        image.Slice((long)(Height - count) * Width, count * Width).Clear();
    }

    /// <summary>
    /// The inverse transform of a spectrum buffer into an image buffer NOT divided by Width * Height (the caller folds
    /// 1 / RealLength into its next pass over the image). Destroys the spectrum: FFTW's c2r overwrites its input.
    /// </summary>
    internal void InverseUnnormalised(FftwBuffer spectrum, FftwBuffer image)
    {
        Check(spectrum.Length, SpectrumLength, "spectrum");
        Check(image.Length, RealLength, "image");
        FftwNative.fftwf_execute_dft_c2r(_inverse, spectrum.Pointer, image.Pointer);
    }

    public void Dispose()
    {
        lock (_gate) Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_real != null) { FftwNative.fftwf_free(_real); _real = null; }
        if (_complex != null) { FftwNative.fftwf_free(_complex); _complex = null; }
    }

    private static void Check(int actual, long expected, string what)
    {
        if (actual != expected) throw new ArgumentException($"the {what} has {actual} values, the transform needs {expected}");
    }
}
