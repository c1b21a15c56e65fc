namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// What the registration of R onto N measured, for <see cref="ZogySubtraction"/>: the rms of the registration residuals
/// sigma_x, sigma_y (pixels; ZOGY's astrometric term, Zackay, Ofek and Gal-Yam 2016, eq. 30-33), the median offset
/// N - R (pixels) that R is shifted by before subtracting, and the fractional error of the flux ratio F_n / F_r.
/// </summary>
public sealed record ZogyRegistration
{
    public double AstrometricRmsX { get; init; }
    public double AstrometricRmsY { get; init; }
    /// <summary>Shift (pixels) applied to R: a star at x in R is moved to x + ReferenceShiftX.</summary>
    public double ReferenceShiftX { get; init; }
    public double ReferenceShiftY { get; init; }
    public double FluxRatioError { get; init; }

    internal void Validate()
    {
        if (!(AstrometricRmsX >= 0) || !(AstrometricRmsY >= 0)) throw new ArgumentException($"the astrometric rms must be non-negative, not ({AstrometricRmsX}, {AstrometricRmsY})");
        if (!double.IsFinite(AstrometricRmsX) || !double.IsFinite(AstrometricRmsY)) throw new ArgumentException($"the astrometric rms must be finite, not ({AstrometricRmsX}, {AstrometricRmsY})");
        if (!double.IsFinite(ReferenceShiftX) || !double.IsFinite(ReferenceShiftY)) throw new ArgumentException($"the reference shift must be finite, not ({ReferenceShiftX}, {ReferenceShiftY})");
        if (!(FluxRatioError >= 0) || !double.IsFinite(FluxRatioError)) throw new ArgumentException($"the flux-ratio error must be non-negative and finite, not {FluxRatioError}");
    }
}

/// <summary>Every parameter of a subtraction's noise model (see <see cref="ZogySubtraction"/>), as <see cref="LocalScore"/> re-evaluates it.</summary>
public sealed record ZogyNoiseModel
{
    public double SigmaNew { get; init; }
    public double SigmaReference { get; init; }
    /// <summary>eta_n, eta_r: what correlated noise makes of the variance maps' kernel sums (<see cref="NoiseCorrelation"/>).</summary>
    public double NewVarianceFactor { get; init; } = 1;
    public double ReferenceVarianceFactor { get; init; } = 1;
    /// <summary>F_n, F_r.</summary>
    public double FluxScaleNew { get; init; } = 1;
    public double FluxScaleReference { get; init; } = 1;
    /// <summary>epsilon_n, epsilon_r: the PSF models' fractional residuals on stars ((epsilon I)^2 joins each variance map).</summary>
    public double NewModelError { get; init; }
    public double ReferenceModelError { get; init; }
    /// <summary>w_n, w_r (pixels^2): the rms of what each PSF model's width is off by on the stars, as the coefficient of the star's Laplacian.</summary>
    public double NewWidthError { get; init; }
    public double ReferenceWidthError { get; init; }
    public double AstrometricRmsX { get; init; }
    public double AstrometricRmsY { get; init; }
    public double ReferenceShiftX { get; init; }
    public double ReferenceShiftY { get; init; }
    public double FluxRatioError { get; init; }
}

/// <summary>
/// The phase ramp exp(-2 pi i (kx dx / W + ky dy / H)) that shifts a real image by (dx, dy) pixels through its half
/// spectrum (the shift theorem); the Nyquist terms of even sizes keep only their real part so the image stays real.
/// </summary>
internal sealed class ShiftRamp
{
    private readonly double[] _cx, _sx, _cy, _sy;

    private ShiftRamp(double[] cx, double[] sx, double[] cy, double[] sy) => (_cx, _sx, _cy, _sy) = (cx, sx, cy, sy);

    /// <summary>Null when there is nothing to shift.</summary>
    public static ShiftRamp? For(int width, int height, double dx, double dy)
    {
        if (dx == 0 && dy == 0) return null;
        var half = width / 2 + 1;
        var (cx, sx) = (new double[half], new double[half]);
        for (var kx = 0; kx < half; kx++)
        {
            var angle = -2 * Math.PI * kx * dx / width;
            cx[kx] = Math.Cos(angle);
            sx[kx] = width % 2 == 0 && kx == width / 2 ? 0 : Math.Sin(angle);
        }
        var (cy, sy) = (new double[height], new double[height]);
        for (var ky = 0; ky < height; ky++)
        {
            var signed = ky <= height / 2 ? ky : ky - height;
            var angle = -2 * Math.PI * signed * dy / height;
            cy[ky] = Math.Cos(angle);
            sy[ky] = height % 2 == 0 && ky == height / 2 ? 0 : Math.Sin(angle);
        }
        return new ShiftRamp(cx, sx, cy, sy);
    }

    /// <summary>(re + i im) times the ramp at spectrum row ky, column kx.</summary>
    public (double Re, double Im) Apply(int ky, int kx, double re, double im)
    {
        var (c, s) = (_cx[kx] * _cy[ky] - _sx[kx] * _sy[ky], _cx[kx] * _sy[ky] + _sx[kx] * _cy[ky]);
        return (re * c - im * s, re * s + im * c);
    }
}
