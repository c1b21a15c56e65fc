using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Subtraction;

namespace Rapid.Pipeline.Imaging;

/// <summary>One star's cross-convolved aperture flux and its plain wide-aperture flux in one image, with their errors and covariance.</summary>
public readonly record struct CrossConvolvedStar(double Flux, double Error, double Wide, double WideError, double Covariance);

/// <summary>
/// A star's flux in the science image and in the reference on the same grid, measured so that the two share one profile:
/// each image is cross-convolved with the other's PSF (science ⊗ P_r, reference ⊗ P_n: a star then has the profile
/// P_n ⊗ P_r in both, as in Alard and Lupton 1998, ApJ 503, 325 and the flux matching of Zackay, Ofek and Gal-Yam 2016,
/// ApJ 830, 27) and summed in a circular aperture A of <see cref="ApertureRadius"/>, a few FWHMs of that profile. The
/// two steps are one weighted sum of the unconvolved image with W_n = A ⋆ P_r (science) or W_r = A ⋆ P_n (reference),
/// both normalised by the same N = Σ W_n P_n = Σ W_r P_r (equal by the convolution algebra), so the ratio is
/// Σ W_n S / Σ W_r R and needs no model normalisation. Against a 10 px aperture the noise area is ~2/3, and the
/// resampled reference's correlated noise counts in full (Σ W² V times <see cref="NoiseCorrelation.VarianceFactor"/>
/// for this W). Measured on the demo's images, a PSF-weighted sum (A = P_n ⊗ P_r, a third of the noise) was biased by
/// ±3 % per image: the ePSFs' shapes (8-12 stars) are not exact, and the narrower the weights the more a shape error
/// moves the ratio. What a model's shape still costs the ratio is measured on the stars themselves: each star's plain
/// 10 px aperture sum (<see cref="CrossConvolvedStar.Wide"/>, the same centre) and the covariance of the two sums are
/// returned, for the aperture correction of Stetson 1990, PASP 102, 932 in <see cref="FluxMatcher"/>.
/// </summary>
public sealed class CrossConvolvedFlux
{
    private readonly double[] _science;
    private readonly double[] _reference;
    private readonly double[] _wide;
    private readonly double _norm;
    private readonly (double Weights, double Wide) _scienceFactors;
    private readonly (double Weights, double Wide) _referenceFactors;

    /// <param name="science">P_n, the science image's PSF stamp.</param>
    /// <param name="reference">P_r, the reference's PSF stamp on the science grid.</param>
    /// <param name="scienceRho">The science image's noise autocorrelation (<see cref="NoiseCorrelation.Autocorrelation"/>; null = white).</param>
    /// <param name="referenceRho">The reference's.</param>
    /// <param name="apertureFwhm">The aperture radius in FWHMs of the cross-convolved PSF, sqrt(FWHM_n^2 + FWHM_r^2).</param>
    /// <param name="wideRadius">Radius (pixels) of the plain wide aperture; each model is scaled to unit sum within it.</param>
    /// <param name="maxApertureShare">The aperture's radius is at most this share of wideRadius (the setting fluxMatchMaxApertureShare).</param>
    public CrossConvolvedFlux(PsfModel science, PsfModel reference, double[]? scienceRho, double[]? referenceRho, double apertureFwhm, double wideRadius, double maxApertureShare)
    {
        ArgumentNullException.ThrowIfNull(science);
        ArgumentNullException.ThrowIfNull(reference);
        if (!(apertureFwhm > 0)) throw new ArgumentOutOfRangeException(nameof(apertureFwhm), apertureFwhm, "the aperture must be positive");
        if (!(maxApertureShare > 0)) throw new ArgumentOutOfRangeException(nameof(maxApertureShare), maxApertureShare, "the aperture's share of the wide one must be positive");
        var pn = science.Stamp.ToArray();
        var pr = reference.Stamp.ToArray();
        Normalise(pn, science.Size, wideRadius);
        Normalise(pr, reference.Size, wideRadius);
        var (fn, fr) = (Finite(science.FwhmPixels), Finite(reference.FwhmPixels));
        // Narrower than the wide aperture (so the correction is from narrow to wide and a broad PSF's aperture does not
        // reach its crowded neighbours: on the gnuastro set, FWHM 2.95 and 2.5 px, 3 FWHMs were 11.6 px and the scale's
        // error 22 % from 8 stars; 8 px gave 2.7 %).
        ApertureRadius = Math.Min(apertureFwhm * Math.Sqrt(fn * fn + fr * fr), maxApertureShare * wideRadius);
        var disc = Disc(ApertureRadius, out var discSize);
        var wn = Convolve(disc, discSize, Flipped(pr), reference.Size, out var wSize);
        var wr = Convolve(disc, discSize, Flipped(pn), science.Size, out _);
        // The weights reach the aperture plus where the PSF has fallen to a few 1e-3 of its peak (twice its FWHM).
        HalfWidth = Math.Clamp((int)Math.Ceiling(Math.Max(ApertureRadius + 2 * Math.Max(fn, fr), wideRadius)), 3, wSize / 2);
        _science = Crop(wn, wSize, HalfWidth);
        _reference = Crop(wr, wSize, HalfWidth);
        var side = 2 * HalfWidth + 1;
        _norm = Dot(_science, Centred(pn, science.Size, HalfWidth)) / 2 + Dot(_reference, Centred(pr, reference.Size, HalfWidth)) / 2;
        _wide = new double[side * side];
        for (var v = -HalfWidth; v <= HalfWidth; v++)
            for (var u = -HalfWidth; u <= HalfWidth; u++)
                if (u * u + v * v <= wideRadius * wideRadius) _wide[(v + HalfWidth) * side + u + HalfWidth] = 1;
        var m = side + 2 * NoiseCorrelation.MaxLag;
        double Factor(double[]? rho, double[] kernel) => NoiseCorrelation.VarianceFactor(rho, Padded(kernel, side, m), m);
        _scienceFactors = (Factor(scienceRho, _science), Factor(scienceRho, _wide));
        _referenceFactors = (Factor(referenceRho, _reference), Factor(referenceRho, _wide));
    }

    /// <summary>Radius (pixels) of the aperture on the cross-convolved images.</summary>
    public double ApertureRadius { get; }

    /// <summary>Half-width (pixels) of the weights: a star needs this many pixels to every edge.</summary>
    public int HalfWidth { get; }

    /// <summary>The noise-correlation factors (variance of the weighted sum over Σ W² V) of the science's and the reference's weights.</summary>
    public (double Science, double Reference) VarianceFactors => (_scienceFactors.Weights, _referenceFactors.Weights);

    /// <summary>The star in the science image (weights centred on pixel (x, y)); null when a weighted pixel is masked or off the image.</summary>
    public CrossConvolvedStar? Science(float[] image, float[] variance, int width, int height, int x, int y) =>
        Measure(_science, _scienceFactors, image, variance, width, height, x, y);

    /// <summary>The star in the reference.</summary>
    public CrossConvolvedStar? Reference(float[] image, float[] variance, int width, int height, int x, int y) =>
        Measure(_reference, _referenceFactors, image, variance, width, height, x, y);

    private CrossConvolvedStar? Measure(double[] weights, (double Weights, double Wide) factors, float[] image, float[] variance, int width, int height, int x, int y)
    {
        if (x < HalfWidth || y < HalfWidth || x >= width - HalfWidth || y >= height - HalfWidth || !(_norm > 0)) return null;
        var side = 2 * HalfWidth + 1;
        double sum = 0, var = 0, wide = 0, wideVar = 0, cov = 0;
        for (var v = 0; v < side; v++)
        {
            var row = (y - HalfWidth + v) * width + x - HalfWidth;
            for (var u = 0; u < side; u++)
            {
                var (w, a) = (weights[v * side + u] / _norm, _wide[v * side + u]);
                if (w == 0 && a == 0) continue;
                var (value, sigma2) = (image[row + u], variance[row + u]);
                if (!float.IsFinite(value) || !float.IsFinite(sigma2)) return null;
                (sum, var) = (sum + w * value, var + w * w * sigma2);
                (wide, wideVar, cov) = (wide + a * value, wideVar + a * sigma2, cov + a * w * sigma2);
            }
        }
        return new CrossConvolvedStar(sum, Math.Sqrt(factors.Weights * var), wide, Math.Sqrt(factors.Wide * wideVar),
            Math.Sqrt(factors.Weights * factors.Wide) * cov);
    }

    /// <summary>Scales the stamp to unit sum within the radius of its centre.</summary>
    private static void Normalise(double[] stamp, int size, double radius)
    {
        var c = size / 2;
        double inside = 0;
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
                if ((x - c) * (x - c) + (y - c) * (y - c) <= radius * radius) inside += stamp[y * size + x];
        if (!(inside > 0)) return;
        for (var i = 0; i < stamp.Length; i++) stamp[i] /= inside;
    }

    private static double[] Disc(double radius, out int size)
    {
        var h = (int)Math.Ceiling(radius);
        size = 2 * h + 1;
        var result = new double[size * size];
        for (var y = -h; y <= h; y++)
            for (var x = -h; x <= h; x++)
                if (x * x + y * y <= radius * radius) result[(y + h) * size + x + h] = 1;
        return result;
    }

    private static double Finite(double fwhm) => double.IsFinite(fwhm) && fwhm > 0 ? fwhm : 2;

    /// <summary>Full 2-D convolution of two odd square stamps (centre at the middle), size a + b - 1.</summary>
    internal static double[] Convolve(double[] a, int na, double[] b, int nb, out int size)
    {
        size = na + nb - 1;
        var result = new double[size * size];
        for (var ay = 0; ay < na; ay++)
            for (var ax = 0; ax < na; ax++)
            {
                var av = a[ay * na + ax];
                if (av == 0) continue;
                for (var by = 0; by < nb; by++)
                {
                    var row = (ay + by) * size + ax;
                    for (var bx = 0; bx < nb; bx++) result[row + bx] += av * b[by * nb + bx];
                }
            }
        return result;
    }

    /// <summary>The stamp rotated by 180 degrees (a correlation as a convolution).</summary>
    private static double[] Flipped(double[] stamp)
    {
        var result = new double[stamp.Length];
        for (var i = 0; i < stamp.Length; i++) result[stamp.Length - 1 - i] = stamp[i];
        return result;
    }

    /// <summary>The central (2 radius + 1)^2 of a stamp, zero outside the circle of the radius (a round footprint).</summary>
    private static double[] Crop(double[] stamp, int size, int radius)
    {
        var side = 2 * radius + 1;
        var c = size / 2;
        var result = new double[side * side];
        for (var v = -radius; v <= radius; v++)
            for (var u = -radius; u <= radius; u++)
                if (u * u + v * v <= radius * radius) result[(v + radius) * side + u + radius] = stamp[(c + v) * size + c + u];
        return result;
    }

    /// <summary>The stamp on a (2 radius + 1)^2 grid with the same centre (cropped or zero-padded).</summary>
    private static double[] Centred(double[] stamp, int size, int radius)
    {
        var side = 2 * radius + 1;
        var c = size / 2;
        var result = new double[side * side];
        for (var v = -radius; v <= radius; v++)
            for (var u = -radius; u <= radius; u++)
            {
                var (sx, sy) = (c + u, c + v);
                if (sx >= 0 && sy >= 0 && sx < size && sy < size) result[(v + radius) * side + u + radius] = stamp[sy * size + sx];
            }
        return result;
    }

    private static double[] Padded(double[] stamp, int side, int m)
    {
        var result = new double[m * m];
        for (var v = 0; v < side; v++) Array.Copy(stamp, v * side, result, v * m, side);
        return result;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
