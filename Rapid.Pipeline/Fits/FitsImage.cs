namespace Rapid.Pipeline.Fits;

/// <summary>
/// A 2-D image HDU held as 32-bit floats. Pixels are row-major with 0-based (x, y):
/// index = y * Width + x; array element (x, y) is FITS pixel (x + 1, y + 1). NaN marks invalid pixels.
/// </summary>
public sealed class FitsImage
{
    public FitsImage(int width, int height, float[]? pixels = null, FitsHeader? header = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var count = (long)width * height;
        if (count > Array.MaxLength) throw new ArgumentException($"a {width} x {height} image is too large for one array");
        if (pixels is not null && pixels.Length != count)
            throw new ArgumentException($"a {width} x {height} image needs {count} pixels, not {pixels.Length}");
        Width = width;
        Height = height;
        Pixels = pixels ?? new float[count];
        Header = header ?? new FitsHeader();
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Row-major, 0-based (x, y): index = y * Width + x.</summary>
    public float[] Pixels { get; }

    /// <summary>WCS and other keywords; the structural ones (BITPIX, NAXISn, ...) are written by <see cref="FitsFile"/>.</summary>
    public FitsHeader Header { get; }

    /// <summary>The pixel at 0-based (x, y).</summary>
    public ref float this[int x, int y]
    {
        get
        {
            if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
                throw new IndexOutOfRangeException($"pixel ({x}, {y}) is outside the {Width} x {Height} image");
            return ref Pixels[(long)y * Width + x];
        }
    }
}

/// <summary>An image HDU's size and its header without the structural keywords, as read without its data.</summary>
public sealed record FitsImageInfo(int Width, int Height, FitsHeader Header);
