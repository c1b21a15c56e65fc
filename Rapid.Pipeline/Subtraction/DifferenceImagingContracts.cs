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
/// PSFs are estimated from the images when null (effective PSFs, <see cref="EffectivePsfBuilder"/>). FallbackScale is the flux scale to use when too few stars match.
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
    /// <summary>The science image's effective PSF, built before fakes were injected; built from the (injected) image when null.</summary>
    public EffectivePsf? ScienceEffectivePsf { get; init; }
    public PsfModel? ReferencePsf { get; init; }
    public double FallbackScale { get; init; } = 1.0;
}

/// <summary>Settings of <see cref="DifferenceImaging"/>; lengths in pixels.</summary>
public sealed record DifferenceImagingOptions
{
    /// <summary>Detection threshold on |S_corr| (sigma).</summary>
    public double DetectionThresholdSigma { get; init; } = 5.0;
    /// <summary>Pixels whose reference coverage is below this many frames are masked (NaN) in every product.</summary>
    public double MinReferenceCoverage { get; init; } = 0.5;
    public int BackgroundMeshSize { get; init; } = 64;
    /// <summary>
    /// Floor of the astrometric rms sigma_x, sigma_y (pixels) of ZOGY's astrometric term (Zackay et al. 2016, section
    /// 3.3, eq. 30-33). The matched-star rms measures the registration of star centroids only; the Lanczos-3
    /// resampling of an undersampled reference (FWHM below 2 px, under Nyquist) also misplaces the light of each star
    /// by a pixel-phase-dependent fraction of a pixel, which acts the same way (a residual proportional to the star's
    /// flux gradient). Set with <see cref="ReferenceSystematicFraction"/> on the simulated pairs of
    /// DifferenceImagingQualityTests: without either term 13 star residuals per 10^6 px reach 5 sigma, with 0.05 px
    /// and 5 % none (0.15 px and 10 % also none, at a cost in sensitivity next to stars).
    /// </summary>
    public double AstrometricRmsFloor { get; init; } = 0.05;
    /// <summary>
    /// Fractional systematic error f of each image's PSF model: (f I)^2 is added to the variance image I's
    /// variance before ZOGY, so its S_corr variance (eq. 26-27: variance convolved with the squared kernels) covers
    /// residuals proportional to a star's flux. For undersampled stars this is the aliased part of the profile,
    /// which no shift-invariant PSF describes (the reason the empirical PSF is phase-averaged); the same kind of
    /// flux-proportional "model error" variance as ZOGY's source-noise and astrometric terms. Transients away from
    /// bright stars are unaffected.
    /// </summary>
    public double ReferenceSystematicFraction { get; init; } = 0.05;
    /// <inheritdoc cref="ReferenceSystematicFraction"/>
    public double ScienceSystematicFraction { get; init; } = 0.05;
    /// <summary>
    /// Saturated science pixels are grown by at least this radius before ZOGY (and by it plus 2 FWHM for the
    /// near-saturated flag); each saturated star's mask reaches further, to where its light falls to
    /// <see cref="SaturationWingSigma"/> (<see cref="SaturatedStars"/>).
    /// </summary>
    public int SaturationMaskRadius { get; init; } = 3;
    /// <summary>A saturated star is masked out to the radius where its light per pixel falls to this many background sigmas.</summary>
    public double SaturationWingSigma { get; init; } = 3;
    /// <summary>No saturated star's mask reaches beyond this radius (pixels) from its centroid.</summary>
    public double SaturationMaskMaxRadius { get; init; } = 100;
    /// <summary>How the effective PSFs are built (their stamp size is also the size of ZOGY's P_n and P_r).</summary>
    public EffectivePsfOptions Psf { get; init; } = new();
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
    /// <summary>The effective PSFs P_n and P_r were taken from (at the image centre, phase 0); null for a PSF given as a stamp.</summary>
    public EffectivePsf? ScienceEffectivePsf { get; init; }
    public EffectivePsf? ReferenceEffectivePsf { get; init; }
    public required double ZogyFluxScale { get; init; }
    public required FluxMatch Match { get; init; }
    /// <summary>The sigma_x, sigma_y (pixels) ZOGY's astrometric term used.</summary>
    public required (double X, double Y) AstrometricRms { get; init; }
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
}

/// <summary>A transient on D: X, Y 0-based science pixels; Flux, FluxError in DN/s (PSF fit on D); Snr the peak |S_corr|.</summary>
public sealed record DifferenceSource(double X, double Y, double Flux, double FluxError, double Snr, int Sign, DifferenceSourceFlags Flags);
