namespace Rapid.Pipeline.Psf;

/// <summary>Small dense linear systems (normal equations of the PSF fits).</summary>
internal static class LinearSystem
{
    /// <summary>
    /// Solves A x = b in place (b becomes x) for a symmetric positive-definite n x n A (row-major, destroyed) by
    /// Cholesky decomposition; false when A is not positive definite (singular, or a degenerate fit).
    /// </summary>
    public static bool SolveSymmetric(Span<double> a, Span<double> b, int n)
    {
        for (var j = 0; j < n; j++)
        {
            var d = a[j * n + j];
            for (var k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
            if (!(d > 1e-300)) return false;
            d = Math.Sqrt(d);
            a[j * n + j] = d;
            for (var i = j + 1; i < n; i++)
            {
                var s = a[i * n + j];
                for (var k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
                a[i * n + j] = s / d;
            }
        }
        for (var i = 0; i < n; i++)
        {
            var s = b[i];
            for (var k = 0; k < i; k++) s -= a[i * n + k] * b[k];
            b[i] = s / a[i * n + i];
        }
        for (var i = n - 1; i >= 0; i--)
        {
            var s = b[i];
            for (var k = i + 1; k < n; k++) s -= a[k * n + i] * b[k];
            b[i] = s / a[i * n + i];
        }
        return true;
    }
}
