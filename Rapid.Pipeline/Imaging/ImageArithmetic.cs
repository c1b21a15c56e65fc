namespace Rapid.Pipeline.Imaging;

/// <summary>Element-wise operations on pixel arrays that turn uncertainties into variances and back, and flux into significance.</summary>
public static class ImageArithmetic
{
    public static float[] Square(float[] values)
    {
        var result = new float[values.Length];
        for (var i = 0; i < values.Length; i++) result[i] = values[i] * values[i];
        return result;
    }

    public static float[] Sqrt(float[] values)
    {
        var result = new float[values.Length];
        for (var i = 0; i < values.Length; i++) result[i] = MathF.Sqrt(values[i]);
        return result;
    }

    /// <summary>image / sqrt(variance), in sigma; NaN where either is invalid or the variance is not positive.</summary>
    public static float[] Significance(float[] image, float[] variance)
    {
        var result = new float[image.Length];
        for (var i = 0; i < image.Length; i++)
            result[i] = variance[i] > 0 ? (float)(image[i] / Math.Sqrt(variance[i])) : float.NaN;
        return result;
    }
}
