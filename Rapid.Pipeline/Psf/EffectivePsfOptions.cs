using Rapid.Core.Contracts;

namespace Rapid.Pipeline.Psf;

/// <summary>
/// Settings of <see cref="EffectivePsfBuilder"/>; lengths in native pixels. Those a night may tune are pipeline settings
/// (<see cref="From"/>); the rest follow photutils' EPSFBuilder and astropy's defaults.
/// </summary>
public sealed record EffectivePsfOptions
{
    /// <summary>The options a job's pipeline settings give (the psf* settings); the others at their defaults.</summary>
    public static EffectivePsfOptions From(PipelineSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new EffectivePsfOptions
        {
            StampSize = 2 * settings.PsfStampHalfSize + 1,
            Oversampling = settings.PsfOversampling,
            MinStarsPerPhase = settings.PsfMinStarsPerPhase,
            FewStarsSmoothing = settings.PsfFewStarsSmoothing,
            DetectionSigma = settings.PsfStarDetectionSigma,
            MinimumStars = settings.PsfMinimumStars,
            MaximumStars = settings.PsfMaximumStars,
            MaxVariationDegree = settings.PsfMaxVariationDegree,
            StarsPerVariationTerm = settings.PsfStarsPerVariationTerm,
        };
    }

    /// <summary>Side of the odd box cut around each star, and the extent of the ePSF (and of ZOGY's PSF stamps).</summary>
    public int StampSize { get; init; } = 35;
    /// <summary>
    /// ePSF samples per native pixel along each axis (photutils' EPSFBuilder default, and Anderson &amp; King's for
    /// WFPC2). Fewer when there are too few stars to fill every sub-pixel phase (see <see cref="MinStarsPerPhase"/>).
    /// </summary>
    public int Oversampling { get; init; } = 4;
    /// <summary>
    /// The oversampling is lowered until there are at least this many stars per sub-pixel phase cell (s² cells). The
    /// build starts from the stars' fitted Gaussian, so empty cells interpolate a smooth residual, and a coarse grid
    /// costs more than empty cells do: at oversampling 1, every star's offset is rounded to a whole pixel, which
    /// broadens the ePSF by a pixel's width (9 stars of FWHM 1.2-1.8 px: fluxes 7-15 % high; at 4, within 2.5 %).
    /// </summary>
    public double MinStarsPerPhase { get; init; } = 0.5;
    /// <summary>
    /// With fewer than 4 stars per sub-pixel phase cell (s² cells), each iteration's residual update is smoothed by a
    /// Gaussian of this sigma (native pixels) before it is added: ~10 stars cannot constrain an undersampled ePSF's
    /// sub-pixel structure, and unsmoothed their noise moved its response by ±20 % from one phase to the next on the
    /// demo's H158 images (FWHM 1.3 px). The residual from the start (the stars' Gaussian) is smooth, so what the
    /// smoothing removes is mostly noise: Anderson &amp; King (2000, sec. 4.4) and photutils' EPSFBuilder smooth for
    /// the same reason, by a fixed kernel.
    /// </summary>
    public double FewStarsSmoothing { get; init; } = 0.6;
    /// <summary>A candidate's peak must exceed this many noise sigmas above the background.</summary>
    public double DetectionSigma { get; init; } = 20;
    /// <summary>No brighter pixel and no other peak above the detection threshold within this distance (box half-size).</summary>
    public int IsolationRadius { get; init; } = 12;
    /// <summary>A candidate whose brightest edge neighbour holds less than this fraction of its peak is a hot pixel or cosmic ray, not a star.</summary>
    public double MinNeighbourFraction { get; init; } = 0.1;
    /// <summary>Fewer usable stars than this and the builder falls back to a pixel-integrated Gaussian.</summary>
    public int MinimumStars { get; init; } = 5;
    /// <summary>At most this many of the brightest usable stars are used.</summary>
    public int MaximumStars { get; init; } = 400;
    /// <summary>Build iterations (residual stack, smoothing, recentring, star fits) at most; photutils' default.</summary>
    public int MaxIterations { get; init; } = 10;
    /// <summary>The iterations stop when no star's fitted centre moves more than this (pixels); photutils' default.</summary>
    public double CenterAccuracy { get; init; } = 1e-3;
    /// <summary>Each star's flux and centre are fitted to its pixels within this radius of its centre.</summary>
    public double FitRadius { get; init; } = 3;
    /// <summary>Residuals further than this many standard deviations from their sample's median are rejected (astropy's SigmaClip default).</summary>
    public double ClipSigma { get; init; } = 3;
    /// <summary>
    /// Star selection, first cut: a candidate whose pixel-integrated Gaussian width differs from the typical star's at
    /// its position by more than this fraction (or 3 robust sigma of the stars' scatter, if larger) is not a star.
    /// </summary>
    public double WidthTolerance { get; init; } = 0.1;
    /// <summary>
    /// Star selection: a source whose light within <see cref="ExcessRadiusInFwhm"/> exceeds (or falls short of) the
    /// fitted ePSF's by more than this fraction of its flux (beyond its noise), compared with the typical star's, is
    /// extended (a galaxy), blended or hit, and is dropped. Measured against the ePSF at the star's own sub-pixel
    /// phase, so it does not depend on the phase the way a width measured on undersampled pixels does.
    /// </summary>
    public double ExcessTolerance { get; init; } = 0.04;
    /// <summary>Radius, in FWHM of the ePSF (at least 3 px), of the aperture that measures a star's excess light.</summary>
    public double ExcessRadiusInFwhm { get; init; } = 2;
    /// <summary>Highest degree of the ePSF's polynomial variation across the detector (0: constant).</summary>
    public int MaxVariationDegree { get; init; } = 2;
    /// <summary>A variation of degree d (with (d + 1)(d + 2) / 2 terms) is fitted only with at least this many stars per term.</summary>
    public int StarsPerVariationTerm { get; init; } = 40;
    /// <summary>Beyond this many FWHM from the centre the ePSF is replaced by its annuli's pooled medians (EffectivePsfBuilder.PoolWings).</summary>
    public double WingRadiusInFwhm { get; init; } = 2.0;
    /// <summary>FWHM for the first centroid window, and for the fallback when no star is usable.</summary>
    public double DefaultFwhm { get; init; } = 2.5;

    public void Validate()
    {
        if (StampSize < 9 || StampSize % 2 == 0) throw new ArgumentException($"the ePSF stamp size must be odd and at least 9, not {StampSize}");
        if (Oversampling < 1 || Oversampling > 10) throw new ArgumentException($"the ePSF oversampling must be 1 to 10, not {Oversampling}");
        if (!(MinStarsPerPhase > 0)) throw new ArgumentException($"the ePSF's stars per phase must be positive, not {MinStarsPerPhase}");
        if (!(FewStarsSmoothing >= 0)) throw new ArgumentException($"the ePSF's few-stars smoothing must not be negative, not {FewStarsSmoothing}");
        if (!(DetectionSigma > 0)) throw new ArgumentException($"the PSF detection threshold must be positive, not {DetectionSigma}");
        if (IsolationRadius < 1) throw new ArgumentException($"the PSF isolation radius must be at least 1, not {IsolationRadius}");
        if (MinimumStars < 1 || MaximumStars < MinimumStars) throw new ArgumentException($"the PSF star limits are inconsistent: minimum {MinimumStars}, maximum {MaximumStars}");
        if (MaxIterations < 1) throw new ArgumentException($"the ePSF needs at least one iteration, not {MaxIterations}");
        if (!(FitRadius >= 1) || FitRadius > StampSize / 2) throw new ArgumentException($"the ePSF fit radius must be 1 to {StampSize / 2} px, not {FitRadius}");
        if (!(ClipSigma > 0) || !(ExcessTolerance > 0) || !(WidthTolerance > 0) || !(ExcessRadiusInFwhm > 0)) throw new ArgumentException("the ePSF clipping and excess limits must be positive");
        if (MaxVariationDegree < 0 || MaxVariationDegree > 3) throw new ArgumentException($"the ePSF variation degree must be 0 to 3, not {MaxVariationDegree}");
        if (StarsPerVariationTerm < 1) throw new ArgumentException($"the ePSF's stars per variation term must be at least 1, not {StarsPerVariationTerm}");
        if (!(DefaultFwhm > 0)) throw new ArgumentException($"the default FWHM must be positive, not {DefaultFwhm}");
    }
}
