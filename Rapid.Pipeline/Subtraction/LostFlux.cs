namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// Light that masking took from both images. ZOGY sets a pixel masked in either image to 0 in both, which is exact for
/// empty sky but not where it held light: with different PSFs, k_n (x) (M N) and k_r (x) (M R) differ (they cancel only
/// for identical PSFs), so a saturated core, a cosmic ray on a star or a star on the reference's coverage edge leaves a
/// residual as wide as the kernels — the square boxes of ringing and paired detections around bright stars. Its size is
/// bounded by A(x) = sum_y |k_n(x - y)| L_N(y) + |k_r(x - y)| L_R(y), with L the light each image lost (the image that
/// still has the pixel tells it; the other's is that times the flux ratio); A^2 joins S_corr's variance like the
/// astrometric term (Zackay, Ofek and Gal-Yam 2016, sec. 3.3), so these residuals are not significant, and the catalog
/// flags detections it dominates. Pixels within <see cref="NoiseLevel"/> sigma of zero lost no light worth counting.
/// </summary>
public sealed class LostFlux
{
    /// <summary>Masked pixels whose surviving value is within this many sigma of the background lost no measurable light.</summary>
    public const double NoiseLevel = 3.0;

    private readonly int _width;
    private readonly int[] _index;
    private readonly float[] _new, _reference;

    private LostFlux(int width, int[] index, float[] lostNew, float[] lostReference)
    {
        (_width, _index, _new, _reference) = (width, index, lostNew, lostReference);
    }

    /// <summary>Masked pixels that held light.</summary>
    public int Count => _index.Length;

    public static LostFlux None(int width) => new(width, [], [], []);

    /// <summary>
    /// The masked pixels (either image NaN) within <paramref name="reach"/> pixels of an unmasked one where the other
    /// image shows light beyond <see cref="NoiseLevel"/> sigma. fn, fr: the flux scales (a source of flux alpha is
    /// fn alpha in N and fr alpha in R).
    /// </summary>
    public static LostFlux Find(float[] newImage, float[] reference, bool[] masked, int width, double sigmaN, double sigmaR, double fn, double fr, int reach)
    {
        var height = masked.Length / width;
        var unmasked = new bool[masked.Length];
        var any = false;
        for (var i = 0; i < masked.Length; i++) { unmasked[i] = !masked[i]; any |= masked[i]; }
        if (!any) return None(width);
        var nearUnmasked = SaturationMask.Grow(unmasked, width, height, reach)!;
        var index = new List<int>();
        var lostN = new List<float>();
        var lostR = new List<float>();
        for (var i = 0; i < masked.Length; i++)
        {
            if (!masked[i] || !nearUnmasked[i]) continue;
            double n = newImage[i], r = reference[i];
            double ln, lr;
            if (double.IsFinite(n) && n > NoiseLevel * sigmaN) (ln, lr) = (n, n * fr / fn);
            else if (double.IsFinite(r) && r > NoiseLevel * sigmaR) (ln, lr) = (r * fn / fr, r);
            else continue;
            index.Add(i);
            lostN.Add((float)ln);
            lostR.Add((float)lr);
        }
        return new LostFlux(width, [.. index], [.. lostN], [.. lostR]);
    }

    /// <summary>A(x0, y0) for the kernels k (their box: k(u) multiplies the pixel at x0 - u).</summary>
    public double Amplitude(int x0, int y0, ShiftedKernels k)
    {
        if (_index.Length == 0) return 0;
        var r = k.Radius;
        double sum = 0;
        for (var v = -r; v <= r; v++)
        {
            var y = y0 - v;
            if (y < 0) continue;
            var (from, to) = ((long)y * _width + Math.Max(0, x0 - r), (long)y * _width + Math.Min(_width - 1, x0 + r));
            if (from > to) continue;
            var start = LowerBound(from);
            for (var p = start; p < _index.Length && _index[p] <= to; p++)
            {
                var u = x0 - _index[p] % _width;
                var b = (v + r) * k.Side + u + r;
                sum += Math.Abs(k.New[b]) * _new[p] + Math.Abs(k.Reference[b]) * _reference[p];
            }
        }
        return sum;
    }

    /// <summary>Adds A over the whole image (row-major, width x height) into <paramref name="amplitude"/>.</summary>
    public void AddAmplitude(float[] amplitude, int height, ShiftedKernels k)
    {
        var r = k.Radius;
        for (var p = 0; p < _index.Length; p++)
        {
            var (x, y) = (_index[p] % _width, _index[p] / _width);
            for (var v = -r; v <= r; v++)
            {
                var ty = y + v;
                if (ty < 0 || ty >= height) continue;
                for (var u = -r; u <= r; u++)
                {
                    var tx = x + u;
                    if (tx < 0 || tx >= _width) continue;
                    var b = (v + r) * k.Side + u + r;
                    amplitude[ty * _width + tx] += (float)(Math.Abs(k.New[b]) * _new[p] + Math.Abs(k.Reference[b]) * _reference[p]);
                }
            }
        }
    }

    private int LowerBound(long value)
    {
        int lo = 0, hi = _index.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_index[mid] < value) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
