namespace Rapid.Pipeline.Psf;

/// <summary>
/// Replaces the wings of an empirical PSF stamp by their azimuthal average. Far from the core a stacked stamp holds
/// 1e-4 of the peak and the stack's noise there is of the same order; ZOGY convolves every star with the other image's
/// PSF, so that noise is printed, times the star's flux, around every bright star as a fixed pattern of spurious S_corr
/// peaks. The original RAPID system radially averages its reference PSFs for the same reason
/// (scripts/generate_refim_psfs.py); here the core, whose asymmetries matter, is kept and only the wings are averaged,
/// blended over one pixel.
/// </summary>
public static class RadialWings
{
    /// <summary>stamp: odd size x size, centre at the middle pixel, modified in place; radius in pixels.</summary>
    public static void Smooth(double[] stamp, int size, double radius)
    {
        ArgumentNullException.ThrowIfNull(stamp);
        if (stamp.Length != size * size) throw new ArgumentException($"the stamp has {stamp.Length} values, not {size} x {size}");
        var c = size / 2;
        if (!(radius > 0) || radius >= c) return;
        // Annulus means in 0.5 px bins of radius, interpolated linearly at each pixel's radius.
        const double bin = 0.5;
        var bins = (int)Math.Ceiling(Math.Sqrt(2) * c / bin) + 2;
        var sum = new double[bins];
        var count = new int[bins];
        for (var j = 0; j < size; j++)
            for (var i = 0; i < size; i++)
            {
                var k = (int)(Math.Sqrt((i - c) * (i - c) + (j - c) * (j - c)) / bin);
                sum[k] += stamp[j * size + i];
                count[k]++;
            }
        double Profile(double r)
        {
            var x = r / bin - 0.5;
            var k0 = Math.Clamp((int)Math.Floor(x), 0, bins - 1);
            var k1 = Math.Min(k0 + 1, bins - 1);
            double Mean(int k) => count[k] > 0 ? sum[k] / count[k] : double.NaN;
            var (a, b) = (Mean(k0), Mean(k1));
            if (double.IsNaN(a)) return double.IsNaN(b) ? 0 : b;
            if (double.IsNaN(b)) return a;
            var t = Math.Clamp(x - k0, 0, 1);
            return a + t * (b - a);
        }
        for (var j = 0; j < size; j++)
            for (var i = 0; i < size; i++)
            {
                var r = Math.Sqrt((i - c) * (i - c) + (j - c) * (j - c));
                var w = Math.Clamp(r - radius, 0, 1);
                if (w == 0) continue;
                var p = j * size + i;
                stamp[p] = (1 - w) * stamp[p] + w * Profile(r);
            }
    }
}
