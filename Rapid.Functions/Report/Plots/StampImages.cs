using SkiaSharp;

namespace Rapid.Functions.Report.Plots;

/// <summary>
/// Grey-scale PNGs of small image stamps. Each stretch maps the stamp's pixels to 0–255; NaN (masked, or off the image)
/// is black. The page enlarges the stamps without smoothing, so every pixel stays visible.
/// </summary>
public static class StampImages
{
    /// <summary>Linear from the 1st to the 99.5th percentile of the stamp's pixels (science, reference).</summary>
    public static byte[] Linear(float[] stamp)
    {
        var finite = Sorted(stamp);
        if (finite.Length == 0) return new byte[stamp.Length];
        return Map(stamp, Percentile(finite, 0.01), Percentile(finite, 0.995));
    }

    /// <summary>Symmetric about zero, to the 99.5th percentile of |value| (difference: positive white, negative black).</summary>
    public static byte[] Symmetric(float[] stamp)
    {
        var finite = Sorted(stamp.Select(Math.Abs).ToArray());
        var high = finite.Length == 0 ? 1 : Math.Max(Percentile(finite, 0.995), 1e-12);
        return Map(stamp, -high, high);
    }

    /// <summary>S_corr in sigma, −5 to +10.</summary>
    public static byte[] Score(float[] stamp) => Map(stamp, -5, 10);

    public static byte[] Png(float[] stamp, int side, Func<float[], byte[]> stretch)
    {
        var grey = stretch(stamp);
        using var bitmap = new SKBitmap(new SKImageInfo(side, side, SKColorType.Gray8, SKAlphaType.Opaque));
        // FITS rows run bottom to top; images top to bottom.
        var pixels = bitmap.GetPixels();
        for (var y = 0; y < side; y++)
            System.Runtime.InteropServices.Marshal.Copy(grey, y * side, pixels + (side - 1 - y) * bitmap.RowBytes, side);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static byte[] Map(float[] stamp, double low, double high)
    {
        var grey = new byte[stamp.Length];
        var span = high > low ? high - low : 1;
        for (var i = 0; i < stamp.Length; i++)
            grey[i] = float.IsFinite(stamp[i]) ? (byte)Math.Clamp(Math.Round(255 * (stamp[i] - low) / span), 0, 255) : (byte)0;
        return grey;
    }

    private static float[] Sorted(float[] values)
    {
        var finite = values.Where(float.IsFinite).ToArray();
        Array.Sort(finite);
        return finite;
    }

    private static double Percentile(float[] sorted, double q) => sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * (sorted.Length - 1) + 0.5))];
}
