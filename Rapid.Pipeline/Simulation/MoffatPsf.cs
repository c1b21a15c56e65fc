namespace Rapid.Pipeline.Simulation;

/// <summary>
/// A circular Moffat PSF (Moffat 1969, A&amp;A 3, 455): I(r) = (β−1)/(π α²) · (1 + r²/α²)^(−β),
/// which integrates to 1 over the plane. It stands in for Roman's Airy core with wings:
/// the FWHM follows the diffraction limit of the 2.36 m aperture, FWHM = 1.03 λ/D
/// (an unobstructed Airy disk; Born &amp; Wolf), added in quadrature to 0.012" rms per axis
/// pointing jitter (the value WebbPSF's Roman WFI model uses), so it grows with wavelength
/// (0.147" at F158, 0.168" at F184). β = 2.5 gives r^−5 wings, steeper than the Airy
/// r^−3 envelope: a stated simplification. Lengths are in pixels unless named otherwise.
/// </summary>
public sealed class MoffatPsf
{
    public const double Beta = 2.5;
    public const double TelescopeDiameterMetres = 2.36;
    public const double JitterRmsArcsec = 0.012;
    private const double RadiansToArcsec = 180.0 / Math.PI * 3600.0;

    public double FwhmPixels { get; }
    public double AlphaPixels { get; }

    public MoffatPsf(double fwhmPixels)
    {
        if (!(fwhmPixels > 0)) throw new ArgumentException($"PSF FWHM {fwhmPixels} px must be > 0");
        FwhmPixels = fwhmPixels;
        AlphaPixels = fwhmPixels / (2 * Math.Sqrt(Math.Pow(2, 1 / Beta) - 1));
    }

    /// <summary>FWHM in arcsec for a filter: diffraction (1.03 λ/D) and jitter in quadrature.</summary>
    public static double FwhmArcsec(RomanFilter filter)
    {
        var diffraction = 1.03 * filter.EffectiveWavelengthMicron * 1e-6 / TelescopeDiameterMetres * RadiansToArcsec;
        var jitter = 2 * Math.Sqrt(2 * Math.Log(2)) * JitterRmsArcsec;
        return Math.Sqrt(diffraction * diffraction + jitter * jitter);
    }

    /// <summary>
    /// The PSF for a filter at a detector position given as the fractional distance from the SCA
    /// centre to its corner (0..1); the FWHM grows by <paramref name="variationToCorner"/> at the corner,
    /// quadratically in between (a slowly varying field-dependent PSF).
    /// </summary>
    public static MoffatPsf For(RomanFilter filter, double pixelScaleArcsec, double radiusFraction = 0, double variationToCorner = 0) =>
        new(FwhmArcsec(filter) / pixelScaleArcsec * (1 + variationToCorner * radiusFraction * radiusFraction));

    /// <summary>Surface density at distance² r2 (pixels²) from the centre, per pixel².</summary>
    public double Density(double r2)
    {
        var q = 1 + r2 / (AlphaPixels * AlphaPixels);
        return (Beta - 1) / (Math.PI * AlphaPixels * AlphaPixels) / (q * q * Math.Sqrt(q));   // q^−2.5
    }

    /// <summary>Fraction of the flux outside radius r (pixels): (1 + r²/α²)^(1−β).</summary>
    public double FractionOutside(double radius) => Math.Pow(1 + radius * radius / (AlphaPixels * AlphaPixels), 1 - Beta);

    /// <summary>
    /// Half-size of a stamp that keeps all but ~<paramref name="lostFluxFraction"/> of the light
    /// (clamped to 4..maxHalfSize pixels).
    /// </summary>
    public int StampHalfSize(double lostFluxFraction, int maxHalfSize = 64)
    {
        var r = AlphaPixels * Math.Sqrt(Math.Pow(lostFluxFraction, 1 / (1 - Beta)) - 1);
        return (int)Math.Clamp(Math.Ceiling(r), 4, maxHalfSize);
    }

    /// <summary>
    /// Fills a (2h+1)² stamp with the PSF integrated over each pixel, for a source at offset
    /// (dx, dy) from the stamp's central pixel centre (pixels, |dx|,|dy| ≤ 0.5), and scales it to sum to 1
    /// (the truncated wings are folded back, so the rendered flux equals the catalogued flux).
    /// Pixel integration: 7×7 sub-samples within 3 px of the source, 1 sample further out, where the PSF is smooth.
    /// </summary>
    public void FillStamp(Span<double> stamp, int h, double dx, double dy)
    {
        var n = 2 * h + 1;
        if (stamp.Length < n * n) throw new ArgumentException("stamp too small");
        const int sub = 7;
        double sum = 0;
        for (var j = 0; j < n; j++)
        {
            var py = j - h - dy;
            for (var i = 0; i < n; i++)
            {
                var px = i - h - dx;
                double v;
                if (px * px + py * py < 9.0)
                {
                    v = 0;
                    for (var sj = 0; sj < sub; sj++)
                    {
                        var y = py + (sj + 0.5) / sub - 0.5;
                        for (var si = 0; si < sub; si++)
                        {
                            var x = px + (si + 0.5) / sub - 0.5;
                            v += Density(x * x + y * y);
                        }
                    }
                    v /= sub * sub;
                }
                else
                {
                    v = Density(px * px + py * py);
                }
                stamp[j * n + i] = v;
                sum += v;
            }
        }
        var scale = 1 / sum;
        for (var k = 0; k < n * n; k++) stamp[k] *= scale;
    }
}
