namespace Rapid.Pipeline.Wcs;

/// <summary>
/// One SIP distortion polynomial (Shupe et al. 2005, ASP Conf. Ser. 347, 491):
/// f(u, v) = sum over p + q &lt;= order of c[p, q] u^p v^q, with u, v pixel offsets from CRPIX.
/// </summary>
internal sealed class SipPolynomial
{
    private readonly double[,] _c;

    public SipPolynomial(double[,] coefficients)
    {
        if (coefficients.GetLength(0) != coefficients.GetLength(1))
            throw new ArgumentException("SIP coefficients must be a square (order + 1) x (order + 1) array indexed [p, q]");
        _c = (double[,])coefficients.Clone();
        Order = coefficients.GetLength(0) - 1;
    }

    public int Order { get; }

    public double this[int p, int q] => _c[p, q];

    public double Evaluate(double u, double v)
    {
        // Horner in v inside Horner in u.
        var sum = 0.0;
        for (var p = Order; p >= 0; p--)
        {
            var inner = 0.0;
            for (var q = Order - p; q >= 0; q--) inner = inner * v + _c[p, q];
            sum = sum * u + inner;
        }
        return sum;
    }

    /// <summary>The value with its partial derivatives d/du and d/dv.</summary>
    public (double F, double Du, double Dv) EvaluateWithDerivatives(double u, double v)
    {
        double f = 0, du = 0, dv = 0;
        Span<double> up = stackalloc double[Order + 2];
        Span<double> vp = stackalloc double[Order + 2];
        up[0] = vp[0] = 1;
        for (var i = 1; i <= Order; i++) { up[i] = up[i - 1] * u; vp[i] = vp[i - 1] * v; }
        for (var p = 0; p <= Order; p++)
        {
            for (var q = 0; q <= Order - p; q++)
            {
                var c = _c[p, q];
                if (c == 0) continue;
                f += c * up[p] * vp[q];
                if (p > 0) du += c * p * up[p - 1] * vp[q];
                if (q > 0) dv += c * q * up[p] * vp[q - 1];
            }
        }
        return (f, du, dv);
    }
}
