using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// The normalisation of ZOGY's flux to total flux: the consensus mean, over the science image's point-like constant
/// stars, of their flux in a wide aperture (<see cref="StarPairs.ApertureRadius"/>) over the alpha ZOGY gives them
/// (S_N / F_S at their best sub-pixel phase: what the same star would measure as a transient). It corrects what the PSF
/// model's stamp does not hold and any shape error common to all sources, as DAOPHOT's aperture correction does for
/// PSF photometry (Stetson 1987, PASP 99, 191). Scatter is what the stars' ratios scatter by beyond their aperture
/// noise: the per-source error of alpha itself (for an undersampled PSF, mostly the pixel phase the model cannot
/// follow), which joins every catalog flux error in proportion to the flux. Factor 1 (not measured) with fewer than
/// <see cref="MinStars"/> stars.
/// </summary>
public sealed record FluxNormalisation(double Factor, double Error, double Scatter, int Stars)
{
    public const int MinStars = 5;

    public static readonly FluxNormalisation Unmeasured = new(1, 0, 0, 0);

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
        var c = Normalisation.Factor;
        var flux = c * t.Flux;
        var relative2 = Normalisation.Error * Normalisation.Error + Normalisation.Scatter * Normalisation.Scatter;
        var error = Math.Sqrt(c * c * t.FluxError * t.FluxError + flux * flux * relative2);
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
