using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// One side of a ZOGY subtraction (the new image N or the reference R), already on the common pixel grid:
/// Pixels row-major (index = y * Width + x), background-subtracted, NaN where masked; Psf its normalised PSF;
/// NoiseSigma the background noise (sigma_n or sigma_r) in the pixels' unit; FluxScale the flux zero point F_n or F_r
/// relative to the other image (1 and 1 when R is already scaled to N's zero point); Variance, if given, the total
/// per-pixel variance (background plus source noise, unit squared), else NoiseSigma^2 everywhere.
/// </summary>
public sealed record ZogyImage(float[] Pixels, int Width, int Height, PsfModel Psf, double NoiseSigma)
{
    public double FluxScale { get; init; } = 1;
    public float[]? Variance { get; init; }
    /// <summary>
    /// epsilon: the fractional residual the PSF model leaves on this image's stars (measured, e.g. by
    /// <see cref="PsfModelError"/>); (epsilon L)^2 is added to each pixel's variance, L the constant light there (the
    /// reference's pixels in this image's flux unit).
    /// </summary>
    public double ModelErrorFraction { get; init; }
    /// <summary>
    /// w (pixels^2): the rms coefficient of the Laplacian of the PSF model that its stars differ by (a model too sharp or
    /// too broad: <see cref="PsfModelError"/>); w^2 (lap S)^2 joins S_corr's variance, as ZOGY's astrometric term does
    /// for a shift (Zackay, Ofek and Gal-Yam 2016, eq. 30-33).
    /// </summary>
    public double WidthErrorPixels2 { get; init; }
    /// <summary>
    /// The normalised autocorrelation of the background noise (<see cref="NoiseCorrelation.Autocorrelation"/>), null for
    /// white noise: correlated noise (a resampled image) makes a kernel sum's variance eta times what the per-pixel
    /// variances give, eta from the kernel (<see cref="NoiseCorrelation.VarianceFactor"/>).
    /// </summary>
    public double[]? NoiseAutocorrelation { get; init; }

    internal void Validate(string name)
    {
        ArgumentNullException.ThrowIfNull(Pixels);
        ArgumentNullException.ThrowIfNull(Psf);
        if (Width <= 0 || Height <= 0 || Pixels.Length != (long)Width * Height) throw new ArgumentException($"the {name} image has {Pixels.Length} values, not {Width} x {Height}");
        if (!(NoiseSigma > 0) || !double.IsFinite(NoiseSigma)) throw new ArgumentException($"the {name} noise sigma must be positive and finite, not {NoiseSigma}");
        if (!(FluxScale > 0) || !double.IsFinite(FluxScale)) throw new ArgumentException($"the {name} flux scale must be positive and finite, not {FluxScale}");
        if (!(WidthErrorPixels2 >= 0) || !double.IsFinite(WidthErrorPixels2)) throw new ArgumentException($"the {name} width error must be non-negative and finite, not {WidthErrorPixels2}");
        if (!(ModelErrorFraction >= 0) || !double.IsFinite(ModelErrorFraction)) throw new ArgumentException($"the {name} model-error fraction must be non-negative and finite, not {ModelErrorFraction}");
        if (Variance is not null && Variance.Length != Pixels.Length) throw new ArgumentException($"the {name} variance image has {Variance.Length} values, not {Width} x {Height}");
    }
}
