using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// The normalisation of ZOGY's alpha to total flux, two ways. With the science image's effective PSF (Anderson and King
/// 2000, PASP 112, 1360; estimated before anything is injected) each detection is divided by the alpha a noise-free
/// unit-flux source drawn by the ePSF at the detection's own sub-pixel position would get (<see
/// cref="TransientDetector.UnitFlux"/>): PSF photometry with the ePSF at the source's phase, which removes both what
/// ZOGY's shift-invariant P_n misses of the light and the pixel-phase aliasing of an undersampled PSF, with no noise
/// of its own (<see cref="Psf"/> set; Factor is then the mean over phases at the image centre, for the log and the
/// check, and Scatter the spread over the phases). Without an ePSF: the consensus mean, over the science image's point-like constant stars, of their flux in a
/// wide aperture (<see cref="StarPairs.ApertureRadius"/>) over the alpha ZOGY gives them, as DAOPHOT's aperture
/// correction does for PSF photometry (Stetson 1987, PASP 99, 191); Scatter is what the stars' ratios scatter by beyond
/// their aperture noise. Scatter joins every catalog flux error in proportion to the flux. Factor 1 (not measured) with
/// fewer than <see cref="MinStars"/> stars.
/// </summary>
public sealed record FluxNormalisation(double Factor, double Error, double Scatter, int Stars)
{
    public const int MinStars = 5;

    public static readonly FluxNormalisation Unmeasured = new(1, 0, 0, 0);

    /// <summary>The science ePSF each detection is normalised with at its own phase; null: <see cref="Factor"/> for all.</summary>
    public EffectivePsf? Psf { get; init; }

    /// <summary>What multiplies a detection's alpha (and the fit's flux) to give its total flux.</summary>
    public double FactorFor(Transient t, TransientDetector detector)
    {
        ArgumentNullException.ThrowIfNull(t);
        ArgumentNullException.ThrowIfNull(detector);
        if (Psf is null) return Factor;
        var unit = detector.UnitFlux(Psf, t.X, t.Y, t.PeakX, t.PeakY);
        return unit > 0 ? 1 / unit : Factor;
    }

    /// <summary>
    /// The ePSF normalisation; Factor the mean of 1 / unit alpha over a 4 x 4 grid of sub-pixel phases at the image
    /// centre, Scatter their rms spread: how much a single factor would have left to the phase, and the per-source error
    /// the catalog gives the phase correction (measured on the independent sets, the fluxes of bright transients scatter
    /// by 1.9-2.5 % around the truth; the spread is 1.5-2.3 %). Error is the ePSF's <see cref="EffectivePsf.WingLightError"/>:
    /// the uncertainty of its normalisation, which every flux in the image shares.
    /// </summary>
    public static FluxNormalisation FromEffectivePsf(EffectivePsf psf, TransientDetector detector, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(psf);
        ArgumentNullException.ThrowIfNull(detector);
        var (cx, cy) = (width / 2, height / 2);
        var factors = new List<double>();
        for (var j = 0; j < 4; j++)
            for (var i = 0; i < 4; i++)
            {
                var unit = detector.UnitFlux(psf, cx - 0.375 + 0.25 * i, cy - 0.375 + 0.25 * j, cx, cy);
                if (unit > 0) factors.Add(1 / unit);
            }
        if (factors.Count == 0) return Unmeasured;
        var mean = factors.Average();
        var spread = Math.Sqrt(factors.Average(f => (f - mean) * (f - mean))) / mean;
        return new FluxNormalisation(mean, psf.WingLightError, spread, psf.StarsUsed) { Psf = psf };
    }

    /// <summary>Factor and its fractional error from the stars (0-based positions on the background-subtracted science image).</summary>
    public static FluxNormalisation Measure(float[] science, float[] variance, int width, int height, LocalScore local, TransientDetector detector, IReadOnlyList<MeasuredStar> stars)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(stars);
        var ratios = new List<double>();
        var errors = new List<double>();
        foreach (var star in stars)
        {
            var (ix, iy) = ((int)Math.Round(star.X), (int)Math.Round(star.Y));
            if (ix < 0 || iy < 0 || ix >= width || iy >= height || local.IsMasked(ix, iy)) continue;
            var alpha = detector.NewImageFlux(local, ix, iy);
            var total = AperturePhotometry.Measure(science, variance, width, height, star.X, star.Y, StarPairs.ApertureRadius);
            if (total.Flags != 0 || !(total.Flux > 0) || !(alpha > 0)) continue;
            ratios.Add(Math.Log(total.Flux / alpha));
            errors.Add(total.FluxError / total.Flux);
        }
        if (ratios.Count < MinStars) return Unmeasured;
        // Blends (a neighbour inside the wide aperture) and variables are clipped.
        var (mean, error, scatter, used) = FluxMatcher.ClippedConsensusMean([.. ratios], [.. errors]);
        return new FluxNormalisation(Math.Exp(mean), error, scatter, used);
    }
}

/// <summary>
/// How the science job turns detections into catalog rows, and measures injected sources the same way without touching
/// the delivered images: ZOGY is linear in N (Zackay, Ofek and Gal-Yam 2016, sec. 3), so an injected source's share of
/// S, its variance and D is computed in a window around it (<see cref="LocalScore.Window"/>), the window's S_corr map is
/// computed pixel by pixel as the full transform does, and the same <see cref="TransientDetector"/> runs on it.
/// </summary>
public sealed class DifferenceMeasurement(LocalScore local, TransientDetector detector, FluxNormalisation normalisation, float[] referenceCoverage, bool[]? nearSaturated)
{
    public LocalScore Local { get; } = local;
    public TransientDetector Detector { get; } = detector;
    public FluxNormalisation Normalisation { get; } = normalisation;

    /// <summary>
    /// A catalog row: alpha normalised, its error from every variance term of S at the source with the normalisation's
    /// error and the per-source scatter of alpha in proportion to the flux, and the measurements behind every flag.
    /// </summary>
    public DifferenceSource ToSource(Transient t)
    {
        ArgumentNullException.ThrowIfNull(t);
        var c = Normalisation.FactorFor(t, Detector);
        var flux = c * t.Flux;
        // The factor's error and the per-source scatter (for the ePSF: its spread over the phases, which bounds what the
        // phase correction leaves when the true PSF's aliasing differs from the ePSF's) join in proportion to the flux.
        var relative2 = Normalisation.Error * Normalisation.Error + Normalisation.Scatter * Normalisation.Scatter;
        var error = Math.Sqrt(c * c * t.FluxError * t.FluxError + flux * flux * relative2);
        // A fit the PSF model does not describe (POOR_FIT) has errors the model's variance terms understate: scaled by
        // sqrt(reduced chi^2), as for any fit worse than its errors allow (Bevington and Robinson 2003, Data Reduction
        // and Error Analysis, 3rd ed., sec. 11.1).
        if (Detector.IsPoorFit(t) && t.FitChiSquare > t.FitDegreesOfFreedom) error *= Math.Sqrt(t.FitChiSquare / t.FitDegreesOfFreedom);
        var i = t.PeakY * Local.Width + t.PeakX;
        var coverage = referenceCoverage[i];
        var threshold = Detector.Threshold;
        var flags = DifferenceSourceFlags.None;
        if (t.FitDegreesOfFreedom + 1 < Detector.FitBoxPixels) flags |= DifferenceSourceFlags.Truncated;
        if (nearSaturated is not null && nearSaturated[i]) flags |= DifferenceSourceFlags.NearSaturated;
        if (t.ResidualSignificance < threshold) flags |= DifferenceSourceFlags.BrightStarResidual;
        if (Detector.IsPoorFit(t)) flags |= DifferenceSourceFlags.PoorFit;
        if (t.OppositePeak >= threshold) flags |= DifferenceSourceFlags.Dipole;
        if (!(coverage >= CosmicRayMask.MinFramesForRejection)) flags |= DifferenceSourceFlags.LowCoverage;
        return new DifferenceSource(t.X, t.Y, flux, error, t.Snr, t.Sign, flags)
        {
            FitFlux = c * t.FitFlux,
            FitFluxError = c * t.FitFluxError,
            FitReducedChiSquare = t.FitDegreesOfFreedom > 0 ? t.FitChiSquare / t.FitDegreesOfFreedom : double.NaN,
            ResidualSignificance = t.ResidualSignificance,
            OppositePeakSigma = t.OppositePeak,
            ReferenceCoverage = coverage,
        };
    }

    /// <summary>
    /// The detection an injected source would have made: the light is added to a window of the inputs, and the positive
    /// detection nearest to (x, y) (0-based) within <paramref name="matchRadius"/> is returned as a catalog row, or
    /// null. Detections within the deblending radius of the search box compete as they would on the whole image.
    /// </summary>
    public DifferenceSource? MeasureInjected(double x, double y, double matchRadius, IReadOnlyList<AddedLight> light)
    {
        ArgumentNullException.ThrowIfNull(light);
        var (ix, iy) = ((int)Math.Round(x), (int)Math.Round(y));
        var search = (int)Math.Ceiling(matchRadius + Detector.DeblendRadius) + 1;
        var window = Local.Window(ix, iy, search + Detector.Margin, light);
        // The map where candidates can be (and their neighbours); the dipole lobe is looked for afterwards, only around
        // what was found.
        var map = ScoreMap.Computed(window, ix - search - 1, iy - search - 1, ix + search + 2, iy + search + 2);
        var (x0, y0) = (Math.Max(0, ix - search), Math.Max(0, iy - search));
        var (x1, y1) = (Math.Min(Local.Width, ix + search + 1), Math.Min(Local.Height, iy + search + 1));
        var found = Detector.Detect(window, map, x0, y0, x1, y1)
            .Where(t => t.Sign > 0 && (t.X - x) * (t.X - x) + (t.Y - y) * (t.Y - y) <= matchRadius * matchRadius)
            .OrderBy(t => (t.X - x) * (t.X - x) + (t.Y - y) * (t.Y - y))
            .FirstOrDefault();
        if (found is null) return null;
        var reach = (int)Math.Ceiling(Detector.DipoleRadius);
        var lobes = ScoreMap.Computed(window, found.PeakX - reach, found.PeakY - reach, found.PeakX + reach + 1, found.PeakY + reach + 1);
        return ToSource(found with { OppositePeak = Detector.OppositePeak(lobes, found.PeakX, found.PeakY, found.Sign) });
    }
}
