namespace Rapid.Pipeline.Psf;

/// <summary>
/// The interpolating cubic spline through the samples of a square grid (row-major, index = v * Size + u), evaluated
/// with its gradient anywhere in the grid: B-spline coefficients from the samples by the recursive prefilter of Unser,
/// Aldroubi &amp; Eden (1993, IEEE Trans. Signal Processing 41, 821; pole z = √3 − 2, mirror boundaries), then 4 x 4
/// cubic B-spline weights per point. It passes through every sample and is twice continuously differentiable, as the
/// interpolating spline photutils evaluates its ePSF with (scipy's RectBivariateSpline, s = 0). Zero outside the grid.
/// </summary>
internal sealed class CubicBSplineGrid
{
    private static readonly double Pole = Math.Sqrt(3) - 2;
    private readonly double[] _coefficients;

    public CubicBSplineGrid(ReadOnlySpan<double> samples, int size)
    {
        if (size < 4) throw new ArgumentException($"a spline grid needs at least 4 x 4 samples, not {size} x {size}");
        if (samples.Length != size * size) throw new ArgumentException($"the grid has {samples.Length} samples, not {size} x {size}");
        Size = size;
        _coefficients = samples.ToArray();
        var line = new double[size];
        for (var v = 0; v < size; v++)
        {
            _coefficients.AsSpan(v * size, size).CopyTo(line);
            Prefilter(line);
            line.CopyTo(_coefficients.AsSpan(v * size, size));
        }
        for (var u = 0; u < size; u++)
        {
            for (var v = 0; v < size; v++) line[v] = _coefficients[v * size + u];
            Prefilter(line);
            for (var v = 0; v < size; v++) _coefficients[v * size + u] = line[v];
        }
    }

    public int Size { get; }

    /// <summary>The spline at grid position (u, v) (0-based sample indices, fractional); 0 outside [0, Size − 1]².</summary>
    public double Value(double u, double v) => Evaluate(u, v, gradient: false).Value;

    /// <summary>The spline and its derivatives along u and v (per grid sample) at (u, v); zeros outside the grid.</summary>
    public (double Value, double Du, double Dv) ValueAndGradient(double u, double v) => Evaluate(u, v, gradient: true);

    private (double Value, double Du, double Dv) Evaluate(double u, double v, bool gradient)
    {
        var last = Size - 1;
        if (!(u >= 0 && u <= last && v >= 0 && v <= last)) return (0, 0, 0);
        var iu = Math.Min((int)u, last - 1);
        var iv = Math.Min((int)v, last - 1);
        Span<double> wu = stackalloc double[4], wv = stackalloc double[4], du = stackalloc double[4], dv = stackalloc double[4];
        Weights(u - iu, wu, du);
        Weights(v - iv, wv, dv);
        double value = 0, gu = 0, gv = 0;
        for (var b = 0; b < 4; b++)
        {
            var row = Mirror(iv - 1 + b) * Size;
            double rowValue = 0, rowDu = 0;
            for (var a = 0; a < 4; a++)
            {
                var c = _coefficients[row + Mirror(iu - 1 + a)];
                rowValue += wu[a] * c;
                if (gradient) rowDu += du[a] * c;
            }
            value += wv[b] * rowValue;
            if (gradient)
            {
                gu += wv[b] * rowDu;
                gv += dv[b] * rowValue;
            }
        }
        return (value, gu, gv);
    }

    /// <summary>
    /// The spline at the lattice (u0 + step · i, v0 + step · j), i &lt; nx, j &lt; ny, into output (row-major, nx per row):
    /// every point shares one fractional position, so the weights are computed once (a star's pixels sample its ePSF at
    /// one sub-pixel phase). Points outside the grid are 0.
    /// </summary>
    public void Lattice(double u0, double v0, int step, int nx, int ny, Span<double> output)
    {
        var (fu, fv) = (Math.Floor(u0), Math.Floor(v0));
        Span<double> wu = stackalloc double[4], wv = stackalloc double[4], d = stackalloc double[4];
        Weights(u0 - fu, wu, d);
        Weights(v0 - fv, wv, d);
        var last = Size - 1;
        for (var j = 0; j < ny; j++)
        {
            var iv = (int)fv + step * j;
            for (var i = 0; i < nx; i++)
            {
                var iu = (int)fu + step * i;
                if (iu < 1 || iv < 1 || iu + 2 > last || iv + 2 > last)
                {
                    output[j * nx + i] = Value(u0 + step * i, v0 + step * j);
                    continue;
                }
                double sum = 0;
                for (var b = 0; b < 4; b++)
                {
                    var row = (iv - 1 + b) * Size + iu - 1;
                    sum += wv[b] * (wu[0] * _coefficients[row] + wu[1] * _coefficients[row + 1] + wu[2] * _coefficients[row + 2] + wu[3] * _coefficients[row + 3]);
                }
                output[j * nx + i] = sum;
            }
        }
    }

    /// <summary>Cubic B-spline weights of taps floor − 1 .. floor + 2 at fraction t in [0, 1], and their derivatives.</summary>
    private static void Weights(double t, Span<double> w, Span<double> d)
    {
        var s = 1 - t;
        var t2 = t * t;
        w[0] = s * s * s / 6;
        w[1] = (3 * t2 * t - 6 * t2 + 4) / 6;
        w[2] = (-3 * t2 * t + 3 * t2 + 3 * t + 1) / 6;
        w[3] = t2 * t / 6;
        d[0] = -s * s / 2;
        d[1] = 1.5 * t2 - 2 * t;
        d[2] = -1.5 * t2 + t + 0.5;
        d[3] = t2 / 2;
    }

    /// <summary>Mirror-symmetric index extension (…, 2, 1, 0, 1, 2, …), the boundary condition of the prefilter.</summary>
    private int Mirror(int i)
    {
        var last = Size - 1;
        if (i < 0) i = -i;
        if (i > last) i = 2 * last - i;
        return Math.Clamp(i, 0, last);
    }

    /// <summary>Samples → B-spline coefficients in place (causal then anti-causal first-order recursions, gain 6).</summary>
    private static void Prefilter(double[] c)
    {
        var n = c.Length;
        var z = Pole;
        for (var k = 0; k < n; k++) c[k] *= 6;
        // Causal initial value for mirror boundaries: the truncated series where z^k falls below double precision,
        // else the exact sum over the mirrored line (Thévenaz, Blu & Unser 2000, IEEE Trans. Med. Imaging 19, 739).
        var horizon = (int)Math.Ceiling(Math.Log(1e-16) / Math.Log(Math.Abs(z)));
        if (horizon < n)
        {
            double sum = c[0], zk = z;
            for (var k = 1; k < horizon; k++)
            {
                sum += zk * c[k];
                zk *= z;
            }
            c[0] = sum;
        }
        else
        {
            var (z1, zn, iz) = (z, Math.Pow(z, n - 1), 1 / z);
            var sum = c[0] + zn * c[n - 1];
            zn *= zn * iz;
            for (var k = 1; k < n - 1; k++)
            {
                sum += (z1 + zn) * c[k];
                z1 *= z;
                zn *= iz;
            }
            c[0] = sum / (1 - z1 * z1);
        }
        for (var k = 1; k < n; k++) c[k] += z * c[k - 1];
        c[n - 1] = z / (z * z - 1) * (c[n - 1] + z * c[n - 2]);
        for (var k = n - 2; k >= 0; k--) c[k] = z * (c[k + 1] - c[k]);
    }
}
