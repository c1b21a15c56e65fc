using System.Diagnostics;
using Rapid.Core.Contracts;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// Where <see cref="DifferenceImaging"/> reports: timed steps, information and warnings (degraded results).
/// The science job passes its JobLog and JobContext; tests and benchmarks may pass <see cref="Silent"/>.
/// </summary>
public interface IDifferenceImagingLog
{
    IDisposable Step(string name);
    void Info(string message);
    /// <summary>A degraded result, with its kind (the job's manifest and the night's summary count warnings per kind).</summary>
    void Warn(JobWarningKind kind, string message);

    /// <summary>Times nothing, says nothing; warnings are kept in <see cref="SilentLog.Warnings"/>.</summary>
    static SilentLog Silent() => new();
}

/// <summary>An <see cref="IDifferenceImagingLog"/> that records step times and warnings in memory.</summary>
public sealed class SilentLog : IDifferenceImagingLog
{
    private readonly Dictionary<string, double> _steps = [];
    public List<JobWarning> Warnings { get; } = [];
    public IReadOnlyDictionary<string, double> StepSeconds => _steps;

    public IDisposable Step(string name) => new Timer(this, name);
    public void Info(string message) { }
    public void Warn(JobWarningKind kind, string message) => Warnings.Add(new JobWarning(kind, message));

    private sealed class Timer(SilentLog log, string name) : IDisposable
    {
        private readonly long _start = Stopwatch.GetTimestamp();
        public void Dispose()
        {
            lock (log._steps) log._steps[name] = log._steps.GetValueOrDefault(name) + Stopwatch.GetElapsedTime(_start).TotalSeconds;
        }
    }
}

/// <summary>
/// The science image and the reference already resampled onto its grid, all row-major (index = y * Width + x),
/// 0-based pixels. Rates in DN/s (not background-subtracted), variances in (DN/s)^2, NaN where bad.
/// ReferenceCoverage is the number of reference frames that cover each pixel (fractional where resampled).
/// Saturated marks the science pixels at or above saturation (they are NaN in Science too); null if unknown.
/// PSFs are estimated from the images when null. PredictedScale is the flux scale the zero points predict (science over
/// reference), null when either is unknown: it checks the measured scale and stands in when too few stars measure it.
/// </summary>
public sealed record DifferenceImagingInput
{
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required float[] Science { get; init; }
    public required float[] ScienceVariance { get; init; }
    public required float[] Reference { get; init; }
    public required float[] ReferenceVariance { get; init; }
    public required float[] ReferenceCoverage { get; init; }
    public bool[]? Saturated { get; init; }
    public PsfModel? SciencePsf { get; init; }
    public PsfModel? ReferencePsf { get; init; }
    public double? PredictedScale { get; init; }
    /// <summary>
    /// The science image's effective PSF, estimated on the calibrated image before anything is injected: detections'
    /// fluxes are normalised with it at their own phase (<see cref="FluxNormalisation"/>), the cosmic-ray test takes its
    /// sharpness from it and saturated stars are masked by its profile (<see cref="SaturatedStars"/>). Null: fluxes by the
    /// stars' apertures, the PSF model's FWHM for sharpness, saturated pixels grown by a fixed radius.
    /// </summary>
    public EffectivePsf? ScienceEffectivePsf { get; init; }
    /// <summary>
    /// The same ePSF while it is still being built (the science job builds it beside the reference's reading and
    /// resampling): the background step, which does not need it, runs meanwhile; it is waited for after that step and
    /// then replaces <see cref="ScienceEffectivePsf"/>. Null: <see cref="ScienceEffectivePsf"/> as given.
    /// </summary>
    public Task<EffectivePsf>? PendingScienceEffectivePsf { get; init; }
}

/// <summary>
/// Settings of <see cref="DifferenceImaging"/>, lengths in pixels: the <see cref="PipelineSettings"/> fields it reads
/// (their [Setting] attributes document them; defaults are theirs), with the two fit probabilities as probabilities.
/// </summary>
public sealed record DifferenceImagingOptions
{
    private static readonly PipelineSettings Defaults = new();

    /// <summary>The options a job with these settings runs with.</summary>
    public static DifferenceImagingOptions From(PipelineSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new DifferenceImagingOptions
        {
            DetectionThresholdSigma = settings.DetectionThresholdSigma,
            MinReferenceCoverage = settings.MinReferenceCoverage,
            BackgroundMeshSize = settings.BackgroundMeshSize,
            SaturationMaskRadius = settings.SaturationMaskRadius,
            SaturationWingSigma = settings.SaturationWingSigma,
            SaturationMaskMaxRadius = settings.SaturationMaskMaxRadius,
            FalseDetectionsPerMegapixel = settings.FalseDetectionsPerMegapixel,
            ConfirmationFraction = settings.ConfirmationFraction,
            PoorFitProbability = Math.Pow(10, settings.PoorFitLog10Probability),
            RejectFitProbability = Math.Pow(10, settings.RejectFitLog10Probability),
            RejectFitResidualFraction = settings.RejectFitResidualFraction,
            MinFluxScaleStars = settings.MinFluxScaleStars,
            FluxScaleTolerance = settings.FluxScaleTolerance,
            FluxMatchApertureFwhm = settings.FluxMatchApertureFwhm,
            FluxMatchMaxApertureShare = settings.FluxMatchMaxApertureShare,
            MaxAstrometricResidual = settings.MaxAstrometricResidual,
            MaxAstrometricOffset = settings.MaxAstrometricOffset,
            MaxPsfModelError = settings.MaxPsfModelError,
            MaxFluxNormalisationOffset = settings.MaxFluxNormalisationOffset,
            Psf = EffectivePsfOptions.From(settings),
        };
    }

    /// <summary><see cref="PipelineSettings.DetectionThresholdSigma"/>.</summary>
    public double DetectionThresholdSigma { get; init; } = Defaults.DetectionThresholdSigma;
    /// <summary><see cref="PipelineSettings.MinReferenceCoverage"/>.</summary>
    public double MinReferenceCoverage { get; init; } = Defaults.MinReferenceCoverage;
    /// <summary><see cref="PipelineSettings.BackgroundMeshSize"/>.</summary>
    public int BackgroundMeshSize { get; init; } = Defaults.BackgroundMeshSize;
    /// <summary><see cref="PipelineSettings.FalseDetectionsPerMegapixel"/> (<see cref="TransientDetectorSettings.FalseDetectionsPerMegapixel"/>).</summary>
    public double FalseDetectionsPerMegapixel { get; init; } = Defaults.FalseDetectionsPerMegapixel;
    /// <summary><see cref="PipelineSettings.ConfirmationFraction"/> (<see cref="TransientDetectorSettings.ConfirmationFraction"/>).</summary>
    public double ConfirmationFraction { get; init; } = Defaults.ConfirmationFraction;
    /// <summary>10^<see cref="PipelineSettings.PoorFitLog10Probability"/> (<see cref="TransientDetectorSettings.PoorFitProbability"/>).</summary>
    public double PoorFitProbability { get; init; } = Math.Pow(10, Defaults.PoorFitLog10Probability);
    /// <summary>10^<see cref="PipelineSettings.RejectFitLog10Probability"/> (<see cref="TransientDetectorSettings.RejectFitProbability"/>).</summary>
    public double RejectFitProbability { get; init; } = Math.Pow(10, Defaults.RejectFitLog10Probability);
    /// <summary><see cref="PipelineSettings.RejectFitResidualFraction"/> (<see cref="TransientDetectorSettings.RejectResidualFraction"/>).</summary>
    public double RejectFitResidualFraction { get; init; } = Defaults.RejectFitResidualFraction;
    /// <summary><see cref="PipelineSettings.MinFluxScaleStars"/>.</summary>
    public int MinFluxScaleStars { get; init; } = Defaults.MinFluxScaleStars;
    /// <summary><see cref="PipelineSettings.FluxScaleTolerance"/>.</summary>
    public double FluxScaleTolerance { get; init; } = Defaults.FluxScaleTolerance;
    /// <summary><see cref="PipelineSettings.FluxMatchApertureFwhm"/>.</summary>
    public double FluxMatchApertureFwhm { get; init; } = Defaults.FluxMatchApertureFwhm;
    /// <summary><see cref="PipelineSettings.FluxMatchMaxApertureShare"/>.</summary>
    public double FluxMatchMaxApertureShare { get; init; } = Defaults.FluxMatchMaxApertureShare;
    /// <summary><see cref="PipelineSettings.MaxAstrometricResidual"/>.</summary>
    public double MaxAstrometricResidual { get; init; } = Defaults.MaxAstrometricResidual;
    /// <summary><see cref="PipelineSettings.MaxAstrometricOffset"/>.</summary>
    public double MaxAstrometricOffset { get; init; } = Defaults.MaxAstrometricOffset;
    /// <summary><see cref="PipelineSettings.MaxPsfModelError"/>.</summary>
    public double MaxPsfModelError { get; init; } = Defaults.MaxPsfModelError;
    /// <summary><see cref="PipelineSettings.MaxFluxNormalisationOffset"/>.</summary>
    public double MaxFluxNormalisationOffset { get; init; } = Defaults.MaxFluxNormalisationOffset;
    /// <summary><see cref="PipelineSettings.SaturationMaskRadius"/>.</summary>
    public int SaturationMaskRadius { get; init; } = Defaults.SaturationMaskRadius;
    /// <summary><see cref="PipelineSettings.SaturationWingSigma"/>.</summary>
    public double SaturationWingSigma { get; init; } = Defaults.SaturationWingSigma;
    /// <summary><see cref="PipelineSettings.SaturationMaskMaxRadius"/>.</summary>
    public double SaturationMaskMaxRadius { get; init; } = Defaults.SaturationMaskMaxRadius;
    /// <summary>The effective-PSF settings (the psf* settings) of the ePSFs whose stamps are ZOGY's P_n and P_r.</summary>
    public EffectivePsfOptions Psf { get; init; } = EffectivePsfOptions.From(Defaults);
}

/// <summary>The products of <see cref="DifferenceImaging"/>; images row-major on the science grid, NaN where masked.</summary>
public sealed record DifferenceImagingResult
{
    /// <summary>The saturated stars masked by their profile (none without a science ePSF: saturated pixels were then grown by a fixed radius).</summary>
    public IReadOnlyList<SaturatedStar> SaturatedStars { get; init; } = [];
    /// <summary>D / F_D: the ZOGY difference in the science image's DN/s.</summary>
    public required float[] Difference { get; init; }
    /// <summary>Per-pixel 1-sigma of <see cref="Difference"/> (DN/s).</summary>
    public required float[] DifferenceUncertainty { get; init; }
    /// <summary>S_corr in sigma.</summary>
    public required float[] ScoreCorrected { get; init; }
    public required PsfModel DifferencePsf { get; init; }
    public required PsfModel SciencePsf { get; init; }
    public required PsfModel ReferencePsf { get; init; }
    /// <summary>The science ePSF whose stamp is <see cref="SciencePsf"/> (P_n); null when a PSF was given.</summary>
    public EffectivePsf? ScienceEffectivePsf { get; init; }
    /// <summary>The ePSF built on the resampled reference whose stamp is <see cref="ReferencePsf"/> (P_r); null when a PSF was given.</summary>
    public EffectivePsf? ReferenceEffectivePsf { get; init; }
    public required double ZogyFluxScale { get; init; }
    public required FluxMatch Match { get; init; }
    /// <summary>The sigma_x, sigma_y (pixels) ZOGY's astrometric term used.</summary>
    public required (double X, double Y) AstrometricRms { get; init; }
    /// <summary>epsilon of the science and reference PSF models (<see cref="PsfModelError"/>).</summary>
    public required (double Science, double Reference) ModelError { get; init; }
    public required double BackgroundScience { get; init; }
    public required double BackgroundReference { get; init; }
    /// <summary>Star FWHMs measured by moments (pixels), NaN when no star was measured.</summary>
    public required double FwhmScienceStars { get; init; }
    public required double FwhmReferenceStars { get; init; }
    /// <summary>Fraction of the science pixels masked (no reference coverage, bad, saturated, cosmic rays).</summary>
    public required double MaskedFraction { get; init; }
    /// <summary>Median reference coverage over the image (frames).</summary>
    public required double CoverageMedian { get; init; }
    public required IReadOnlyList<DifferenceSource> Sources { get; init; }
    /// <summary>The threshold on S_corr detection used (sigma; the least set, or higher for the false-detection rate).</summary>
    public required double DetectionThreshold { get; init; }
    /// <summary>How detections were measured, to measure injected sources the same way.</summary>
    public required DifferenceMeasurement Measurement { get; init; }
}

/// <summary>
/// A transient on the difference: X, Y 0-based science pixels (sub-pixel); Flux, FluxError ZOGY's optimal photometry
/// alpha and its error in DN/s, normalised to total flux; Snr the |S_corr| at the source's position; the measurements
/// behind the flags: the confirming PSF fit of P_D on D (flux, error, chi^2 per degree of freedom), the significance
/// against the residual terms alone, the strongest opposite-sign S_corr nearby, the reference coverage (frames).
/// </summary>
public sealed record DifferenceSource(double X, double Y, double Flux, double FluxError, double Snr, int Sign, DifferenceSourceFlags Flags)
{
    public double FitFlux { get; init; } = double.NaN;
    public double FitFluxError { get; init; } = double.NaN;
    public double FitReducedChiSquare { get; init; } = double.NaN;
    public double ResidualSignificance { get; init; } = double.PositiveInfinity;
    public double OppositePeakSigma { get; init; }
    public double ReferenceCoverage { get; init; } = double.NaN;
}
