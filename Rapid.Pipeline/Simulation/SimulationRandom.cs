using System.Numerics;

namespace Rapid.Pipeline.Simulation;

/// <summary>
/// Deterministic random streams for the simulator. System.Random with an explicit seed is the
/// same sequence on every platform and run; each (survey seed, purpose, indices) gets its own
/// stream so images can be rendered in parallel in any order with identical results.
/// </summary>
internal static class SimulationRandom
{
    /// <summary>A stream for the given seed and indices (SplitMix64 mixing, not string hashing, which .NET randomises).</summary>
    public static Random For(int seed, params int[] indices)
    {
        ulong h = Mix((ulong)(uint)seed + 0x9E3779B97F4A7C15UL);
        foreach (var i in indices) h = Mix(h ^ ((ulong)(uint)i + 0x632BE59BD9B4E019UL));
        return new Random((int)(h & 0x7FFFFFFF));
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static double Uniform(this Random r, double lo, double hi) => lo + (hi - lo) * r.NextDouble();

    /// <summary>Standard normal deviate (Marsaglia polar method).</summary>
    public static double NextGaussian(this Random r)
    {
        double u, v, s;
        do
        {
            u = 2 * r.NextDouble() - 1;
            v = 2 * r.NextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        return u * Math.Sqrt(-2 * Math.Log(s) / s);
    }

    /// <summary>
    /// Poisson deviate: exact (Knuth's multiplication method) below a mean of 30,
    /// the normal approximation mean + sqrt(mean)·z above it (error well below the read noise there).
    /// </summary>
    public static double NextPoisson(this Random r, double mean)
    {
        if (!(mean > 0)) return 0;
        if (mean >= 30) return Math.Max(0, Math.Round(mean + Math.Sqrt(mean) * r.NextGaussian()));
        var limit = Math.Exp(-mean);
        var k = 0;
        var p = r.NextDouble();
        while (p > limit) { k++; p *= r.NextDouble(); }
        return k;
    }

    /// <summary>
    /// A magnitude drawn from dN/dm ∝ 10^(slope·m) on [bright, faint] (inverse CDF).
    /// Slope 0.3 is a typical faint-end slope of star and near-infrared galaxy counts.
    /// </summary>
    public static double NextPowerLawMagnitude(this Random r, double bright, double faint, double slope = 0.3)
    {
        var a = Math.Pow(10, slope * bright);
        var b = Math.Pow(10, slope * faint);
        return Math.Log10(a + r.NextDouble() * (b - a)) / slope;
    }
}

/// <summary>
/// A fast deterministic generator for per-pixel noise: xoshiro256** (Blackman &amp; Vigna 2018) seeded by
/// SplitMix64, with Box–Muller normal pairs. Used where millions of deviates per image are drawn.
/// </summary>
internal sealed class PixelNoiseGenerator
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spare;
    private bool _hasSpare;

    public PixelNoiseGenerator(ulong seed)
    {
        ulong Next() { seed += 0x9E3779B97F4A7C15UL; var z = seed; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL; z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL; return z ^ (z >> 31); }
        (_s0, _s1, _s2, _s3) = (Next(), Next(), Next(), Next());
    }

    private ulong NextULong()
    {
        var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3; _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in (0, 1): 53 random bits, never exactly 0.</summary>
    public double NextDouble() => ((NextULong() >> 11) + 0.5) * (1.0 / (1UL << 53));

    public double NextGaussian()
    {
        if (_hasSpare) { _hasSpare = false; return _spare; }
        var r = Math.Sqrt(-2 * Math.Log(NextDouble()));
        var (s, c) = Math.SinCos(2 * Math.PI * NextDouble());
        _spare = r * s;
        _hasSpare = true;
        return r * c;
    }

    /// <summary>Poisson deviate, exact (Knuth) below a mean of 30; callers use a normal approximation above it.</summary>
    public double NextSmallPoisson(double mean)
    {
        if (!(mean > 0)) return 0;
        var limit = Math.Exp(-mean);
        var k = 0;
        var p = NextDouble();
        while (p > limit) { k++; p *= NextDouble(); }
        return k;
    }
}
