using System.Security.Cryptography;
using System.Text.Json;

namespace Rapid.Core.Contracts;

/// <summary>What a pipeline setting means and in which unit; <see cref="SettingsDocumentation"/> reads it.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SettingAttribute(string meaning) : Attribute
{
    public string Meaning { get; } = meaning;
    /// <summary>The unit of the value ("" when it has none).</summary>
    public string Unit { get; init; } = "";
}

/// <summary>
/// Every tunable setting of the pipeline jobs, each documented by its <see cref="SettingAttribute"/> (the one source of
/// docs/settings.md and of <c>rapid diff --help</c>). A night gets them from a settings profile
/// (<see cref="SettingsProfile"/>: <c>rapid run --settings FILE</c>, on AWS the stack's profile), <c>rapid diff</c> from
/// <c>--set name=value</c>; every job config records the settings its job ran with and their <see cref="Hash"/>.
/// Defaults follow the original system's ini. Adding a setting: a property here with its attribute and default, read
/// from the job config's Settings where it is used; then regenerate docs/settings.md (the test says how).
/// </summary>
public sealed record PipelineSettings
{
    [Setting("Fewest earlier images a reference is co-added from; with fewer the science job ends with exit 33")]
    public int MinReferenceInputs { get; set; } = 3;

    [Setting("Most earlier images co-added into one reference (the nearest the tile centre first)")]
    public int MaxReferenceInputs { get; set; } = 25;

    [Setting("Detection threshold on |S_corr|", Unit = "sigma")]
    public double DetectionThresholdSigma { get; set; } = 5.0;

    [Setting("Reference co-add: values this far from the stack's median are rejected as outliers, in units of each frame's model noise (background, source noise and coaddClipAmplitudeFraction)", Unit = "sigma")]
    public double CoaddClipSigma { get; set; } = 3.0;

    [Setting("Difference pixels whose resampled reference coverage is below this are masked (NaN), as in the original", Unit = "frames")]
    public double MinReferenceCoverage { get; set; } = 0.5;

    [Setting("Gain used when the image has none of GAIN, EGAIN", Unit = "e-/DN")]
    public double DefaultGain { get; set; } = 1.0;

    [Setting("Read noise used when the image has none of RDNOISE, READNOI, READNOIS", Unit = "DN")]
    public double DefaultReadNoise { get; set; } = 8.5;

    [Setting("Saturation level used when the image has none of SATURATE, SATURVAL, SATLEVEL", Unit = "DN")]
    public double DefaultSaturation { get; set; } = 100000;

    [Setting("Mesh size of the SExtractor-like background of science image, reference and co-add", Unit = "pixels")]
    public int BackgroundMeshSize { get; set; } = 64;

    [Setting("Expected false detections from noise per 10^6 pixels the detection threshold may allow: the threshold is raised above detectionThresholdSigma until the noise peaks of S_corr expected from its measured correlation fall below this (0 keeps detectionThresholdSigma)", Unit = "per 10^6 pixels")]
    public double FalseDetectionsPerMegapixel { get; set; } = 0.25;

    [Setting("A detection on S_corr is confirmed when its PSF fit on D reaches this fraction of the threshold in S/N")]
    public double ConfirmationFraction { get; set; } = 0.5;

    [Setting("A detection whose PSF fit on D has a chi-square less probable than 10^this is flagged POOR_FIT", Unit = "log10 probability")]
    public double PoorFitLog10Probability { get; set; } = -3;

    [Setting("A detection whose PSF fit on D has a chi-square less probable than 10^this is not confirmed (dropped)", Unit = "log10 probability")]
    public double RejectFitLog10Probability { get; set; } = -6;

    [Setting("An improbable PSF-fit chi-square (rejectFitLog10Probability) drops a detection only when its excess over the degrees of freedom is also more than this fraction of the fitted source's S/N^2 (a bright real source's shape error is a small fraction of its signal; an artefact's is not)")]
    public double RejectFitResidualFraction { get; set; } = 0.25;

    [Setting("Fewest constant stars that measure the flux scale; with fewer the zero points' prediction (or 1) is used, with a flux_scale warning", Unit = "stars")]
    public int MinFluxScaleStars { get; set; } = 5;

    [Setting("A measured flux scale farther than this fraction (or three of its own errors) from the zero points' prediction is a flux_scale warning")]
    public double FluxScaleTolerance { get; set; } = 0.05;

    [Setting("Flux matching measures each star in an aperture of this radius (at most fluxMatchMaxApertureShare of the 10 px aperture), in FWHMs of the cross-convolved PSF (sqrt(FWHM_n^2 + FWHM_r^2)), on the science image convolved with P_r and the reference convolved with P_n; the bright stars' 10 px apertures then correct it to total flux", Unit = "FWHM")]
    public double FluxMatchApertureFwhm { get; set; } = 3;

    [Setting("The flux-matching aperture's radius is at most this share of the bright stars' 10 px aperture that corrects it to total flux: the correction then goes from narrow to wide, and a broad PSF's aperture does not reach its crowded neighbours (on the gnuastro bench set, FWHM 2.95 and 2.5 px, an 11.6 px aperture gave a scale error of 22 % from 8 stars, 8 px gave 2.7 %)")]
    public double FluxMatchMaxApertureShare { get; set; } = 0.8;

    [Setting("Registration residuals between science and reference stars beyond this (per axis) are an astrometry warning", Unit = "pixels")]
    public double MaxAstrometricResidual { get; set; } = 0.3;

    [Setting("A median offset between science and reference stars beyond this is an astrometry warning (one WCS is off)", Unit = "pixels")]
    public double MaxAstrometricOffset { get; set; } = 1.0;

    [Setting("A PSF model that leaves more than this fraction of its stars' light unmodelled is a psf warning")]
    public double MaxPsfModelError { get; set; } = 0.25;

    [Setting("A flux normalisation (stars' total flux over ZOGY's alpha, or the science ePSF's) farther than this from 1 is a psf warning; the ePSF's is used only while it agrees with the stars' within this fraction")]
    public double MaxFluxNormalisationOffset { get; set; } = 0.1;

    [Setting("Saturated science pixels are grown by at least this radius before ZOGY (a saturated star's mask reaches to where its light falls to saturationWingSigma); detections a few PSF widths farther are flagged NEAR_SATURATED", Unit = "pixels")]
    public int SaturationMaskRadius { get; set; } = 3;

    [Setting("Reference co-add: the fraction of the stack's median added to each frame's model noise before clipping (SWarp's CLIP_AMPFRAC, Gruen et al. 2014), so a variable star is averaged over its epochs, not clipped")]
    public double CoaddClipAmplitudeFraction { get; set; } = 0.4;

    [Setting("A saturated star is masked out to the radius where its light per pixel (from its unsaturated ring and the effective PSF) falls to this many background sigmas", Unit = "sigma")]
    public double SaturationWingSigma { get; set; } = 3;

    [Setting("No saturated star's mask reaches farther than this from its centre", Unit = "pixels")]
    public double SaturationMaskMaxRadius { get; set; } = 100;

    [Setting("Half-size of the effective PSF and of ZOGY's PSF stamps (each stamp is 2 x this + 1 pixels on a side)", Unit = "pixels")]
    public int PsfStampHalfSize { get; set; } = 17;

    [Setting("Effective PSF (Anderson & King 2000) samples per pixel along each axis; lowered when too few stars fill the sub-pixel phases")]
    public int PsfOversampling { get; set; } = 4;

    [Setting("Effective PSF: fewest stars per sub-pixel phase cell (oversampling squared cells) before the oversampling is lowered")]
    public double PsfMinStarsPerPhase { get; set; } = 0.5;

    [Setting("Effective PSF: with fewer than 4 stars per sub-pixel phase cell, each iteration's residual is smoothed by a Gaussian of this sigma (regularisation: what so few stars constrain)", Unit = "pixels")]
    public double PsfFewStarsSmoothing { get; set; } = 0.6;

    [Setting("Effective PSF: a star's peak must exceed its background by this many noise sigmas", Unit = "sigma")]
    public double PsfStarDetectionSigma { get; set; } = 20;

    [Setting("Effective PSF: with fewer usable stars the PSF is a Gaussian fallback and the job ends with a psf warning")]
    public int PsfMinimumStars { get; set; } = 5;

    [Setting("Effective PSF: most stars used (the brightest usable ones)")]
    public int PsfMaximumStars { get; set; } = 400;

    [Setting("Effective PSF: highest degree of its polynomial variation across the detector (0: one PSF for the whole image)")]
    public int PsfMaxVariationDegree { get; set; } = 2;

    [Setting("Effective PSF: a variation of degree d, with (d + 1)(d + 2) / 2 terms, is fitted only with at least this many stars per term")]
    public int PsfStarsPerVariationTerm { get; set; } = 40;

    /// <summary>
    /// The first 16 hex digits of the SHA-256 of these settings' JSON (every field, in declaration order): equal settings
    /// have equal hashes whatever profile or options produced them, so products and job configs can be grouped by it.
    /// </summary>
    public string Hash() =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(this, RapidJsonContext.Default.PipelineSettings)))[..16];

    /// <summary>What is wrong with these values (one message per setting, by its JSON name); empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Require(bool ok, string name, string message) { if (!ok) problems.Add($"{name} {message}"); }
        Require(MinReferenceInputs >= 1, "minReferenceInputs", $"= {MinReferenceInputs} must be at least 1");
        Require(MaxReferenceInputs >= MinReferenceInputs, "maxReferenceInputs", $"= {MaxReferenceInputs} must be at least minReferenceInputs ({MinReferenceInputs})");
        Require(DetectionThresholdSigma > 0, "detectionThresholdSigma", $"= {DetectionThresholdSigma} must be positive");
        Require(CoaddClipSigma > 0, "coaddClipSigma", $"= {CoaddClipSigma} must be positive");
        Require(MinReferenceCoverage >= 0, "minReferenceCoverage", $"= {MinReferenceCoverage} must not be negative");
        Require(DefaultGain > 0, "defaultGain", $"= {DefaultGain} must be positive");
        Require(DefaultReadNoise >= 0, "defaultReadNoise", $"= {DefaultReadNoise} must not be negative");
        Require(DefaultSaturation > 0, "defaultSaturation", $"= {DefaultSaturation} must be positive");
        Require(BackgroundMeshSize >= 8, "backgroundMeshSize", $"= {BackgroundMeshSize} must be at least 8");
        Require(FalseDetectionsPerMegapixel >= 0, "falseDetectionsPerMegapixel", $"= {FalseDetectionsPerMegapixel} must not be negative");
        Require(ConfirmationFraction >= 0, "confirmationFraction", $"= {ConfirmationFraction} must not be negative");
        Require(PoorFitLog10Probability < 0, "poorFitLog10Probability", $"= {PoorFitLog10Probability} must be negative (a probability below 1)");
        Require(RejectFitLog10Probability <= PoorFitLog10Probability, "rejectFitLog10Probability", $"= {RejectFitLog10Probability} must not exceed poorFitLog10Probability ({PoorFitLog10Probability})");
        Require(RejectFitResidualFraction >= 0, "rejectFitResidualFraction", $"= {RejectFitResidualFraction} must not be negative");
        Require(MinFluxScaleStars >= 1, "minFluxScaleStars", $"= {MinFluxScaleStars} must be at least 1");
        Require(FluxScaleTolerance > 0, "fluxScaleTolerance", $"= {FluxScaleTolerance} must be positive");
        Require(FluxMatchApertureFwhm is > 0 and <= 5, "fluxMatchApertureFwhm", $"= {FluxMatchApertureFwhm} must be above 0 and at most 5");
        Require(FluxMatchMaxApertureShare is > 0 and <= 2, "fluxMatchMaxApertureShare", $"= {FluxMatchMaxApertureShare} must be above 0 and at most 2");
        Require(MaxAstrometricResidual > 0, "maxAstrometricResidual", $"= {MaxAstrometricResidual} must be positive");
        Require(MaxAstrometricOffset > 0, "maxAstrometricOffset", $"= {MaxAstrometricOffset} must be positive");
        Require(MaxPsfModelError > 0, "maxPsfModelError", $"= {MaxPsfModelError} must be positive");
        Require(MaxFluxNormalisationOffset > 0, "maxFluxNormalisationOffset", $"= {MaxFluxNormalisationOffset} must be positive");
        Require(SaturationMaskRadius >= 0, "saturationMaskRadius", $"= {SaturationMaskRadius} must not be negative");
        Require(CoaddClipAmplitudeFraction >= 0, "coaddClipAmplitudeFraction", $"= {CoaddClipAmplitudeFraction} must not be negative");
        Require(SaturationWingSigma > 0, "saturationWingSigma", $"= {SaturationWingSigma} must be positive");
        Require(SaturationMaskMaxRadius >= SaturationMaskRadius, "saturationMaskMaxRadius", $"= {SaturationMaskMaxRadius} must be at least saturationMaskRadius ({SaturationMaskRadius})");
        Require(PsfStampHalfSize is >= 4 and <= 100, "psfStampHalfSize", $"= {PsfStampHalfSize} must be 4 to 100");
        Require(PsfOversampling is >= 1 and <= 10, "psfOversampling", $"= {PsfOversampling} must be 1 to 10");
        Require(PsfMinStarsPerPhase > 0, "psfMinStarsPerPhase", $"= {PsfMinStarsPerPhase} must be positive");
        Require(PsfFewStarsSmoothing >= 0, "psfFewStarsSmoothing", $"= {PsfFewStarsSmoothing} must not be negative");
        Require(PsfStarDetectionSigma > 0, "psfStarDetectionSigma", $"= {PsfStarDetectionSigma} must be positive");
        Require(PsfMinimumStars >= 1, "psfMinimumStars", $"= {PsfMinimumStars} must be at least 1");
        Require(PsfMaximumStars >= PsfMinimumStars, "psfMaximumStars", $"= {PsfMaximumStars} must be at least psfMinimumStars ({PsfMinimumStars})");
        Require(PsfMaxVariationDegree is >= 0 and <= 3, "psfMaxVariationDegree", $"= {PsfMaxVariationDegree} must be 0 to 3");
        Require(PsfStarsPerVariationTerm >= 1, "psfStarsPerVariationTerm", $"= {PsfStarsPerVariationTerm} must be at least 1");
        return problems;
    }
}
