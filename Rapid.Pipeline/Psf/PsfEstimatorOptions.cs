namespace Rapid.Pipeline.Psf;

/// <summary>Settings of <see cref="PsfEstimator"/>; lengths in pixels.</summary>
public sealed record PsfEstimatorOptions
{
    /// <summary>Side of the odd output stamp.</summary>
    public int StampSize { get; init; } = 35;
    /// <summary>A candidate's peak must exceed this many noise sigmas above the background.</summary>
    public double DetectionSigma { get; init; } = 20;
    /// <summary>No brighter pixel and no other peak above the detection threshold within this distance (box half-size).</summary>
    public int IsolationRadius { get; init; } = 12;
    /// <summary>Fewer usable stars than this and the estimator falls back to a Gaussian.</summary>
    public int MinimumStars { get; init; } = 5;
    /// <summary>At most this many of the brightest usable stars are stacked.</summary>
    public int MaximumStars { get; init; } = 200;
    /// <summary>FWHM for the centroid window and for the fallback when no star is usable.</summary>
    public double DefaultFwhm { get; init; } = 2.5;
    /// <summary>A candidate whose brightest edge neighbour holds less than this fraction of its peak is a hot pixel or cosmic ray, not a star.</summary>
    public double MinNeighbourFraction { get; init; } = 0.1;
    /// <summary>Beyond this many FWHM from the centre the stacked stamp is replaced by its azimuthal average.</summary>
    public double WingRadiusInFwhm { get; init; } = 2.0;

    public void Validate()
    {
        if (StampSize < 5 || StampSize % 2 == 0) throw new ArgumentException($"the PSF stamp size must be odd and at least 5, not {StampSize}");
        if (!(DetectionSigma > 0)) throw new ArgumentException($"the PSF detection threshold must be positive, not {DetectionSigma}");
        if (IsolationRadius < 1) throw new ArgumentException($"the PSF isolation radius must be at least 1, not {IsolationRadius}");
        if (MinimumStars < 1 || MaximumStars < MinimumStars) throw new ArgumentException($"the PSF star limits are inconsistent: minimum {MinimumStars}, maximum {MaximumStars}");
        if (!(DefaultFwhm > 0)) throw new ArgumentException($"the default FWHM must be positive, not {DefaultFwhm}");
    }
}
