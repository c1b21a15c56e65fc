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

    internal void Validate(string name)
    {
        ArgumentNullException.ThrowIfNull(Pixels);
        ArgumentNullException.ThrowIfNull(Psf);
        if (Width <= 0 || Height <= 0 || Pixels.Length != (long)Width * Height) throw new ArgumentException($"the {name} image has {Pixels.Length} values, not {Width} x {Height}");
        if (!(NoiseSigma > 0) || !double.IsFinite(NoiseSigma)) throw new ArgumentException($"the {name} noise sigma must be positive and finite, not {NoiseSigma}");
        if (!(FluxScale > 0) || !double.IsFinite(FluxScale)) throw new ArgumentException($"the {name} flux scale must be positive and finite, not {FluxScale}");
        if (Variance is not null && Variance.Length != Pixels.Length) throw new ArgumentException($"the {name} variance image has {Variance.Length} values, not {Width} x {Height}");
    }
}
