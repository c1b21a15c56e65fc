using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
    private static readonly float[] Phases = BuildPhases();

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

    /// <summary>
    /// The 6 weights of <see cref="Weights"/> for frac in [0, 1] as one vector, in lanes 0-5, with their sum in lane 6
    /// and the sum of their absolute values in lane 7. Read from a table of the weights at every 1/4096 of a pixel,
    /// interpolated linearly: the same values <see cref="Evaluate"/> gives (its table has the same nodes, and no weight
    /// changes sign inside a step, so the sums interpolate too), for two vector loads instead of twelve lookups.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> PhaseWeights(float frac)
    {
        var s = frac * StepsPerPixel;
        var i = Math.Clamp((int)s, 0, StepsPerPixel);
        var t = s - i;
        ref var row = ref MemoryMarshal.GetArrayDataReference(Phases);
        var lo = Vector256.LoadUnsafe(ref row, (nuint)(i * 8));
        var hi = Vector256.LoadUnsafe(ref row, (nuint)(i * 8 + 8));
        return lo + (hi - lo) * t;
    }

    private static float[] BuildPhases()
    {
        Span<float> w = stackalloc float[2 * HalfWidth];
        var phases = new float[(StepsPerPixel + 2) * 8];
        for (var p = 0; p <= StepsPerPixel + 1; p++)
        {
            Weights(Math.Min(p, StepsPerPixel) / (float)StepsPerPixel, w);
            float sum = 0, abs = 0;
            for (var k = 0; k < w.Length; k++)
            {
                phases[p * 8 + k] = w[k];
                sum += w[k];
                abs += MathF.Abs(w[k]);
            }
            (phases[p * 8 + 6], phases[p * 8 + 7]) = (sum, abs);
        }
        return phases;
    }

    private static float[] BuildTable()
    {
        var table = new float[HalfWidth * StepsPerPixel + 2];
        for (var i = 0; i < table.Length; i++) table[i] = (float)Exact((double)i / StepsPerPixel);
        return table;
    }
}
