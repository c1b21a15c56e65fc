using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// What a PSF model leaves of an image's stars: Width, the rms coefficient w (pixels^2) of the model's Laplacian the stars
/// differ by (a model too sharp or too broad), Fraction, what is left beyond that (epsilon), and how many stars measured them.
/// </summary>
public sealed record PsfModelErrorEstimate(double Fraction, double Width, int Stars)
{
    public static readonly PsfModelErrorEstimate None = new(0, 0, 0);
}

/// <summary>
/// What a PSF model leaves on an image's stars, the measured replacement for a tuned "model error": each star is fitted
/// by the model m placed at its sub-pixel position by the shift theorem (as ZOGY's convolutions place every source), its
/// Laplacian (a profile broader by a small amount differs from the model by that amount times the Laplacian), and a
/// local sky: I = a m + c lap m + b. The coefficient w_j = c / a is the star's width error (pixels^2), and epsilon^2 is
/// what the residual still holds beyond the noise, over the model's own energy:
///   epsilon_j^2 = (sum (I - a m - c lap m - b)^2 - sum V) / (a^2 sum m^2)
/// The image's w is the rms of the w_j (robustly: median and 1.4826 MAD in quadrature), its epsilon the median epsilon_j.
/// A width error leaves a coherent ring around every star, which the variance term w^2 (lap S)^2 describes (as ZOGY's
/// astrometric term describes a shift); epsilon is the incoherent rest. For an undersampled PSF this is the pixel-phase aliasing no
/// shift-invariant model can follow (a star's pixels differ from the band-limited shift of the model by a pattern that
/// depends on its phase; Anderson and King 2000, PASP 112, 1360); for a resampled reference it includes what the
/// resampling did to the stars. As a variance (epsilon I)^2 per pixel it predicts the residual energy of a star of any
/// brightness (ZOGY's source-noise construction, Zackay, Ofek and Gal-Yam 2016, sec. 3.2).
/// </summary>
public static class PsfModelError
{
    /// <summary>Stars fainter than this peak S/N are left out: their residual is noise.</summary>
    public const double MinStarSnr = 50;
    /// <summary>Sub-pixel steps of the position search: the model is placed at every 1/8 pixel within half a pixel of the centroid.</summary>
    private const int PhaseSteps = 8;

    /// <summary>
    /// epsilon from the stars (0-based positions) on the background-subtracted image; <see cref="PsfModelErrorEstimate.None"/>
    /// when fewer than three stars could be measured.
    /// </summary>
    public static PsfModelErrorEstimate Measure(float[] image, float[] variance, int width, int height, PsfModel psf, IEnumerable<(double X, double Y)> stars)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(variance);
        ArgumentNullException.ThrowIfNull(psf);
        ArgumentNullException.ThrowIfNull(stars);
        var fwhm = double.IsFinite(psf.FwhmPixels) && psf.FwhmPixels > 0 ? psf.FwhmPixels : 2;
        // The fit box: the core and first wings, where a star's residual stands above the noise.
        var half = Math.Min(psf.Centre, (int)Math.Ceiling(2 * fwhm) + 1);
        var phases = ShiftedModels(psf, half);
        // Each star is measured on its own (in parallel); the results are kept in the stars' order.
        var positions = stars.ToArray();
        var measured = new (float Fraction, float Width)?[positions.Length];
        Parallel.For(0, positions.Length, k => measured[k] = MeasureStar(image, variance, width, height, positions[k], half, phases));
        var fractions = new List<float>();
        var widths = new List<float>();
        foreach (var m in measured)
            if (m is { } star) { fractions.Add(star.Fraction); widths.Add(star.Width); }
        if (fractions.Count < 3) return PsfModelErrorEstimate.None;
        var median = RobustStatistics.Median([.. fractions]);
        var widthMedian = RobustStatistics.Median([.. widths]);
        var widthSpread = 1.4826 * RobustStatistics.Median(widths.Select(w => (float)Math.Abs(w - widthMedian)).ToArray());
        return new PsfModelErrorEstimate(Math.Sqrt(Math.Max(0, median)), Math.Sqrt(widthMedian * widthMedian + widthSpread * widthSpread), fractions.Count);
    }

    /// <summary>One star's epsilon_j^2 and w_j; null when its box leaves the image, holds an unusable pixel, or its S/N is too low.</summary>
    private static (float Fraction, float Width)? MeasureStar(float[] image, float[] variance, int width, int height, (double X, double Y) star,
        int half, List<ShiftedModel> phases)
    {
        var side = 2 * half + 1;
        var (ix, iy) = ((int)Math.Round(star.X), (int)Math.Round(star.Y));
        if (ix - half < 0 || iy - half < 0 || ix + half >= width || iy + half >= height) return null;
        var data = new double[side * side];
        var noise = new double[side * side];
        for (var b = 0; b < side; b++)
            for (var a = 0; a < side; a++)
            {
                var p = (iy - half + b) * width + ix - half + a;
                (data[b * side + a], noise[b * side + a]) = (image[p], variance[p]);
                if (!float.IsFinite(image[p]) || !(variance[p] > 0)) return null;
            }
        double best = double.PositiveInfinity, bestAmplitude = 0, bestModelEnergy = 0, bestWidth = 0;
        foreach (var phase in phases)
        {
            var (amplitude, laplacianCoefficient, chi) = Fit(data, phase);
            if (chi < best) (best, bestAmplitude, bestModelEnergy, bestWidth) = (chi, amplitude, phase.Energy, laplacianCoefficient);
        }
        if (!(bestAmplitude > 0)) return null;
        // The star's peak S/N: amplitude over the noise of the model's matched filter.
        var noiseEnergy = noise.Sum();
        var snr = bestAmplitude * Math.Sqrt(bestModelEnergy) / Math.Sqrt(noiseEnergy / noise.Length);
        if (snr < MinStarSnr) return null;
        return ((float)((best - noiseEnergy) / (bestAmplitude * bestAmplitude * bestModelEnergy)), (float)(bestWidth / bestAmplitude));
    }

    /// <summary>
    /// The model m and its Laplacian l at one phase, with what the fit needs of them alone: sum m^2, and the normal
    /// matrix of the basis (m, l, 1), the same for every star.
    /// </summary>
    private sealed class ShiftedModel
    {
        public ShiftedModel(double[] model, double[] laplacian)
        {
            (Model, Laplacian) = (model, laplacian);
            Energy = model.Sum(m => m * m);
            for (var i = 0; i < model.Length; i++)
            {
                double[] values = [model[i], laplacian[i], 1];
                for (var r = 0; r < 3; r++)
                    for (var c = 0; c < 3; c++) Normal[r, c] += values[r] * values[c];
            }
        }

        public double[] Model { get; }
        public double[] Laplacian { get; }
        public double Energy { get; }
        public double[,] Normal { get; } = new double[3, 3];
    }

    /// <summary>
    /// The model's central side x side box and its Laplacian, shifted by every phase in [-1/2, 1/2]^2 in steps of
    /// 1/PhaseSteps (shift theorem; the Laplacian times -|2 pi nu / size|^2 in the same spectrum).
    /// </summary>
    private static List<ShiftedModel> ShiftedModels(PsfModel psf, int half)
    {
        var size = psf.Size;
        var side = 2 * half + 1;
        using var fft = new Fft.Fft2DDouble(size, size);
        var spectrum = new double[fft.SpectrumLength];
        fft.Forward(psf.Stamp.ToArray(), spectrum);
        var models = new List<ShiftedModel>();
        for (var j = -PhaseSteps / 2; j <= PhaseSteps / 2; j++)
            for (var i = -PhaseSteps / 2; i <= PhaseSteps / 2; i++)
            {
                // A star at ix + fx: its pixel ix + a holds P(c + a - fx), which is the stamp shifted by -fx.
                var (dx, dy) = (-(double)i / PhaseSteps, -(double)j / PhaseSteps);
                models.Add(new ShiftedModel(Box(Shifted(fft, spectrum, size, dx, dy, laplacian: false), size, psf.Centre, half, side),
                                            Box(Shifted(fft, spectrum, size, dx, dy, laplacian: true), size, psf.Centre, half, side)));
            }
        return models;
    }

    private static double[] Box(double[] stamp, int size, int centre, int half, int side)
    {
        var box = new double[side * side];
        for (var b = 0; b < side; b++)
            for (var a = 0; a < side; a++) box[b * side + a] = stamp[(centre - half + b) * size + centre - half + a];
        return box;
    }

    /// <summary>out(i, j) = stamp (or its Laplacian) at (i + dx, j + dy); even sizes keep only the Nyquist terms' real part.</summary>
    private static double[] Shifted(Fft.Fft2DDouble fft, double[] spectrum, int size, double dx, double dy, bool laplacian)
    {
        var half = fft.SpectrumWidth;
        var ramped = new double[spectrum.Length];
        for (var ky = 0; ky < size; ky++)
        {
            var ny = ky <= size / 2 ? ky : ky - size;
            for (var kx = 0; kx < half; kx++)
            {
                var nyquist = size % 2 == 0 && (kx == size / 2 || ky == size / 2);
                var angle = 2 * Math.PI * (kx * dx + ny * dy) / size;
                var (c, s) = (Math.Cos(angle), nyquist ? 0 : Math.Sin(angle));
                var k = 2 * (ky * half + kx);
                var (re, im) = (spectrum[k] * c - spectrum[k + 1] * s, spectrum[k] * s + spectrum[k + 1] * c);
                var factor = laplacian ? -Math.Pow(2 * Math.PI / size, 2) * ((double)kx * kx + (double)ny * ny) : 1;
                ramped[k] = re * factor;
                ramped[k + 1] = im * factor;
            }
        }
        var result = new double[size * size];
        fft.Inverse(ramped, result);
        return result;
    }

    /// <summary>Least-squares a m + c lap m + b (normal equations, 3 x 3): a, c and the sum of squared residuals.</summary>
    private static (double Amplitude, double Width, double Chi) Fit(double[] data, ShiftedModel phase)
    {
        var (model, laplacian) = (phase.Model, phase.Laplacian);
        var vector = new double[3];
        for (var i = 0; i < data.Length; i++)
        {
            vector[0] += model[i] * data[i];
            vector[1] += laplacian[i] * data[i];
            vector[2] += data[i];
        }
        if (Solve(phase.Normal, vector) is not { } p) return (0, 0, double.PositiveInfinity);
        double chi = 0;
        for (var i = 0; i < data.Length; i++) { var r = data[i] - p[0] * model[i] - p[1] * laplacian[i] - p[2]; chi += r * r; }
        return (p[0], p[1], chi);
    }

    /// <summary>Gaussian elimination with partial pivoting; null when singular.</summary>
    private static double[]? Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        var m = (double[,])a.Clone();
        var v = (double[])b.Clone();
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++) if (Math.Abs(m[r, col]) > Math.Abs(m[pivot, col])) pivot = r;
            if (!(Math.Abs(m[pivot, col]) > 1e-300)) return null;
            if (pivot != col)
            {
                for (var c = 0; c < n; c++) (m[col, c], m[pivot, c]) = (m[pivot, c], m[col, c]);
                (v[col], v[pivot]) = (v[pivot], v[col]);
            }
            for (var r = col + 1; r < n; r++)
            {
                var f = m[r, col] / m[col, col];
                for (var c = col; c < n; c++) m[r, c] -= f * m[col, c];
                v[r] -= f * v[col];
            }
        }
        var x = new double[n];
        for (var r = n - 1; r >= 0; r--)
        {
            var sum = v[r];
            for (var c = r + 1; c < n; c++) sum -= m[r, c] * x[c];
            x[r] = sum / m[r, r];
        }
        return x;
    }
}
