namespace Rapid.Pipeline.Psf;

/// <summary>Square boxes of pixels copied out of an image, for the stamp cutters.</summary>
internal static class ImageBox
{
    /// <summary>
    /// The box x box values (row-major, double) whose pixel (box / 2, box / 2) is image pixel (ix, iy), 0-based;
    /// null when the box leaves the image or holds NaN.
    /// </summary>
    public static double[]? Copy(ReadOnlySpan<float> image, int width, int height, int ix, int iy, int box)
    {
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
        return values;
    }
}
