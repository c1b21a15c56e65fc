using System.Diagnostics;
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
    /// <summary>A degraded result of a kind (<see cref="ImagingWarning"/>): the job ends with a warning code and the reason.</summary>
    void Warn(string kind, string message);

    /// <summary>Times nothing, says nothing; warnings are kept in <see cref="SilentLog.Warnings"/>.</summary>
    static SilentLog Silent() => new();
}

/// <summary>An <see cref="IDifferenceImagingLog"/> that records step times and warnings in memory.</summary>
public sealed class SilentLog : IDifferenceImagingLog
{
    private readonly Dictionary<string, double> _steps = [];
    /// <summary>Warnings as "kind: message".</summary>
    public List<string> Warnings { get; } = [];
    public IReadOnlyDictionary<string, double> StepSeconds => _steps;

    public IDisposable Step(string name) => new Timer(this, name);
    public void Info(string message) { }
    public void Warn(string kind, string message) => Warnings.Add($"{kind}: {message}");

    private sealed class Timer(SilentLog log, string name) : IDisposable
    {
        private readonly long _start = Stopwatch.GetTimestamp();
        public void Dispose()
        {
            lock (log._steps) log._steps[name] = log._steps.GetValueOrDefault(name) + Stopwatch.GetElapsedTime(_start).TotalSeconds;
        }
    }
}

/// <summary>The kinds of warning difference imaging raises (each names what failed its check).</summary>
public static class ImagingWarning
{
    /// <summary>The flux scale could not be measured or disagrees with the zero points.</summary>
    public const string FluxScale = "flux_scale";
    /// <summary>The registration's residuals or offset are beyond their limits.</summary>
    public const string Astrometry = "astrometry";
    /// <summary>A PSF is a fallback, leaves too much of its stars' light, or misplaces ZOGY's flux normalisation.</summary>
    public const string Psf = "psf";
    /// <summary>Too much of the difference is masked.</summary>
    public const string Coverage = "coverage";
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
}

/// <summary>Settings of <see cref="DifferenceImaging"/>; lengths in pixels.</summary>
public sealed record DifferenceImagingOptions
{
    /// <summary>Detection threshold on |S_corr| (sigma).</summary>
    public double DetectionThresholdSigma { get; init; } = 5.0;
    /// <summary>Pixels whose reference coverage is below this many frames are masked (NaN) in every product.</summary>
    public double MinReferenceCoverage { get; init; } = 0.5;
    public int BackgroundMeshSize { get; init; } = 64;
    /// <summary>Expected noise detections per 10^6 pixels the threshold may allow (<see cref="TransientDetectorSettings.FalseDetectionsPerMegapixel"/>); 0 keeps the threshold as set.</summary>
    public double FalseDetectionsPerMegapixel { get; init; } = 0.25;
    /// <summary>A detection's PSF fit on D must reach this fraction of the threshold in S/N to confirm it (<see cref="TransientDetectorSettings.ConfirmationFraction"/>).</summary>
    public double ConfirmationFraction { get; init; } = 0.5;
    /// <summary>A PSF fit whose chi^2 is less probable than this is flagged (<see cref="TransientDetectorSettings.PoorFitProbability"/>).</summary>
    public double PoorFitProbability { get; init; } = 1e-3;
    /// <summary>A PSF fit whose chi^2 is less probable than this does not confirm its detection (<see cref="TransientDetectorSettings.RejectFitProbability"/>).</summary>
    public double RejectFitProbability { get; init; } = 1e-6;
    /// <summary>Fewer constant stars than this cannot set the flux scale (the zero points' prediction is used, with a warning).</summary>
    public int MinFluxScaleStars { get; init; } = 5;
    /// <summary>A measured flux scale further than this fraction (or three of its errors) from the zero points' prediction is a warning.</summary>
    public double FluxScaleTolerance { get; init; } = 0.05;
    /// <summary>Registration residuals (pixels, per axis) beyond this are a warning.</summary>
    public double MaxAstrometricResidual { get; init; } = 0.3;
    /// <summary>A median offset (pixels) between the images' stars beyond this is a warning: one WCS is off.</summary>
    public double MaxAstrometricOffset { get; init; } = 1.0;
    /// <summary>A PSF model that leaves more than this fraction of its stars' light (epsilon) is a warning.</summary>
    public double MaxPsfModelError { get; init; } = 0.25;
    /// <summary>A flux normalisation further than this from 1 is a warning: the PSF model misplaces the stars' light.</summary>
    public double MaxFluxNormalisationOffset { get; init; } = 0.1;
    /// <summary>Saturated science pixels are grown by this radius before ZOGY and detections this close to them are flagged.</summary>
    public int SaturationMaskRadius { get; init; } = 3;
}

/// <summary>The measurements behind the difference catalog's FLAGS, as bits (the catalog's flag registry documents them).</summary>
[Flags]
public enum DifferenceSourceFlags
{
    None = 0,
    /// <summary>The PSF fit box was cut by the image edge or masked pixels.</summary>
    Truncated = 1,
    /// <summary>Within a few PSF widths of a saturated science pixel: residuals of saturated stars are likely.</summary>
    NearSaturated = 2,
    /// <summary>Not significant against the residual terms alone (model error, registration, flux ratio, lost flux): a residual of something constant could have made it.</summary>
    ResidualDominated = 4,
    /// <summary>The PSF fit's chi^2 is improbable: not shaped like P_D.</summary>
    PoorFit = 8,
    /// <summary>S_corr of the other sign beyond the threshold within twice the score FWHM: a dipole.</summary>
    Dipole = 16,
    /// <summary>Fewer reference frames than a sigma clip needs (3) cover it.</summary>
    LowCoverage = 32,
}

/// <summary>The products of <see cref="DifferenceImaging"/>; images row-major on the science grid, NaN where masked.</summary>
public sealed record DifferenceImagingResult
{
    /// <summary>D / F_D: the ZOGY difference in the science image's DN/s.</summary>
    public required float[] Difference { get; init; }
    /// <summary>Per-pixel 1-sigma of <see cref="Difference"/> (DN/s).</summary>
    public required float[] DifferenceUncertainty { get; init; }
    /// <summary>S_corr in sigma.</summary>
    public required float[] ScoreCorrected { get; init; }
    public required PsfModel DifferencePsf { get; init; }
    public required PsfModel SciencePsf { get; init; }
    public required PsfModel ReferencePsf { get; init; }
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
