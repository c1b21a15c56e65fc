namespace Rapid.Pipeline.Psf;

/// <summary>How a <see cref="PsfModel"/> was made; anything but Empirical/Given is a fallback the manifest names as a warning.</summary>
public enum PsfMethod
{
    /// <summary>Median of sub-pixel-centred stamps of bright, isolated, unsaturated stars.</summary>
    Empirical,
    /// <summary>Supplied by the caller (e.g. a PSF file), recentred and normalised.</summary>
    Given,
    /// <summary>Fallback: circular Gaussian with the median FWHM of the too few stars that were found.</summary>
    GaussianFromStars,
    /// <summary>Fallback: circular Gaussian with the configured default FWHM (no usable star at all).</summary>
    GaussianFromDefault,
    /// <summary>The PSF of a ZOGY difference image, P_D (Zackay, Ofek and Gal-Yam 2016, eq. 14).</summary>
    ZogyDifference,
}
