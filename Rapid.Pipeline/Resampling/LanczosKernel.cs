namespace Rapid.Pipeline.Resampling;

/// <summary>
/// The Lanczos-3 kernel L(t) = sinc(t) sinc(t / 3) for |t| &lt; 3, else 0 (sinc(t) = sin(pi t) / (pi t)),
/// tabulated as SWarp does (Bertin et al. 2002) with linear interpolation between 4096 steps per pixel:
/// the table error is below 1e-7.
/// </summary>
internal static class LanczosKernel
{
    public const int HalfWidth = 3;
    private const int StepsPerPixel = 4096;
    private static readonly float[] Table = BuildTable();

    public static double Exact(double t)
    {
        t = Math.Abs(t);
        if (t >= HalfWidth) return 0;
        if (t < 1e-12) return 1;
        var pt = Math.PI * t;
        return HalfWidth * Math.Sin(pt) * Math.Sin(pt / HalfWidth) / (pt * pt);
    }

    public static float Evaluate(float t)
    {
        var s = MathF.Abs(t) * StepsPerPixel;
        var i = (int)s;
        if (i >= HalfWidth * StepsPerPixel) return 0;
        var f = s - i;
        return Table[i] + f * (Table[i + 1] - Table[i]);
    }

    /// <summary>The 6 weights for taps floor(position) - 2 .. floor(position) + 3, given frac = position - floor(position).</summary>
    public static void Weights(float frac, Span<float> weights)
    {
        for (var k = 0; k < 2 * HalfWidth; k++) weights[k] = Evaluate(frac + (HalfWidth - 1) - k);
    }

    private static float[] BuildTable()
    {
        var table = new float[HalfWidth * StepsPerPixel + 2];
        for (var i = 0; i < table.Length; i++) table[i] = (float)Exact((double)i / StepsPerPixel);
        return table;
    }
}
