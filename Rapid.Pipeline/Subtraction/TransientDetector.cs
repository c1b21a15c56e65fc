namespace Rapid.Pipeline.Subtraction;

/// <summary>Settings of <see cref="TransientDetector"/>.</summary>
public sealed record TransientDetectorSettings
{
    /// <summary>Detection threshold on |S_corr| (sigma) at the source's sub-pixel position (the least: see <see cref="FalseDetectionsPerMegapixel"/>).</summary>
    public double ThresholdSigma { get; init; } = 5.0;
    /// <summary>
    /// Expected detections of pure noise per 10^6 pixels (both signs) the threshold may allow; the threshold is raised
    /// until the score's noise field gives no more (0 or less: <see cref="ThresholdSigma"/> as it is).
    /// </summary>
    public double FalseDetectionsPerMegapixel { get; init; } = 0.25;
    /// <summary>
    /// The PSF fit of P_D on D must reach this fraction of the threshold in S/N, with the detection's sign: the fit is the
    /// confirmation (a significant S_corr with nothing PSF-like under it is not a source).
    /// </summary>
    public double ConfirmationFraction { get; init; } = 0.5;
    /// <summary>A PSF fit whose chi^2 is this improbable for its degrees of freedom marks the detection as poorly fitted.</summary>
    public double PoorFitProbability { get; init; } = 1e-3;
    /// <summary>
    /// A PSF fit whose chi^2 is this improbable is no confirmation: what D holds there is not shaped like P_D (a cosmic ray
    /// or hot pixel that escaped its mask, a residual of something sharp).
    /// </summary>
    public double RejectFitProbability { get; init; } = 1e-6;
    /// <summary>
    /// An improbable chi^2 rejects only when what the fit leaves (chi^2 less its degrees of freedom) also exceeds this
    /// fraction of the fitted source's own energy against the noise (its S/N^2): a shape error of a fixed fraction of a
    /// real source (pixel-phase aliasing of an undersampled PSF that the measured model error does not cover) grows
    /// with its brightness until any probability cut drops the brightest transients, while an artefact (a cosmic ray, a
    /// hot pixel, an edge) leaves residuals comparable to or larger than its own signal.
    /// </summary>
    public double RejectResidualFraction { get; init; } = 0.25;
}

/// <summary>
/// A detection on ZOGY's score: X, Y its sub-pixel position (0-based); PeakX, PeakY the S_corr pixel it was found at;
/// Flux, FluxError ZOGY's optimal photometry alpha = S / F_S and sqrt(V(S)) / F_S at that position (N's flux
/// unit; Zackay, Ofek and Gal-Yam 2016, eq. 41-43, with every variance term of S there); Snr the S_corr there; Sample the score's
/// parts; FitFlux, FitFluxError, FitChiSquare, FitDegreesOfFreedom the confirming PSF fit of P_D on D; OppositePeak the
/// strongest S_corr of the other sign within the dipole radius (sigma, 0 if none).
/// </summary>
public sealed record Transient(double X, double Y, int PeakX, int PeakY, int Sign, double Flux, double FluxError, double Snr,
    ScoreSample Sample, double FitFlux, double FitFluxError, double FitChiSquare, int FitDegreesOfFreedom, double OppositePeak)
{
    /// <summary>Significance against the residual terms alone (model error, registration, flux ratio, lost flux): below the threshold, a residual of something constant could have made it.</summary>
    public double ResidualSignificance => Sample.ResidualVariance > 0 ? Math.Abs(Sample.Score) / Math.Sqrt(Sample.ResidualVariance) : double.PositiveInfinity;
}

/// <summary>
/// Finds sources on ZOGY's S_corr, which is already the matched filter of the difference (Zackay, Ofek and Gal-Yam 2016,
/// sec. 3): every pixel that is an extremum of S_corr among its eight neighbours and beyond the threshold a source at the
/// worst sub-pixel phase would still reach there (q T, q = g(1/2, 1/2) / g(0, 0) of the score profile g) is a candidate;
/// S and its variance terms are then evaluated at sub-pixel offsets by the shift theorem (<see cref="ZogyKernels.At"/>),
/// and the candidate is a detection when the best S_corr reaches the threshold — no group of connected pixels is
/// required, which for an undersampled P_D costs 0.3-0.5 mag. The detection is confirmed by a PSF fit of P_D on D at the
/// same position, as pmvreeswijk/ZOGY confirms its candidates: the fit must carry the sign and a fraction of the
/// threshold in S/N, and its chi^2 must not be wildly improbable (what D holds must be shaped like P_D); the chi^2 also
/// sets the catalog's poor-fit flag. Within the score profile's FWHM of a stronger detection of the same sign nothing else is kept.
/// The same code measures the whole image and the windows that hold injected sources (<see cref="LocalScore.Window"/>).
/// </summary>
public sealed class TransientDetector
{
    /// <summary>Phases evaluated per axis: -1/2 .. 1/2 in quarter pixels.</summary>
    private static readonly double[] PhaseGrid = [-0.5, -0.25, 0, 0.25, 0.5];

    private readonly ShiftedKernels[] _phases;
    private readonly int _fitRadius;
    private readonly double _scoreFluxScale;

    public TransientDetector(ZogyKernels kernels, ZogyNoiseModel noise, TransientDetectorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(noise);
        Settings = settings ?? throw new ArgumentNullException(nameof(settings));
        if (!(settings.ThresholdSigma > 0)) throw new ArgumentException($"the detection threshold must be positive, not {settings.ThresholdSigma}");
        var n = PhaseGrid.Length;
        _phases = new ShiftedKernels[n * n];
        Parallel.For(0, n * n, k => _phases[k] = kernels.At(PhaseGrid[k % n], PhaseGrid[k / n], noise.ReferenceShiftX, noise.ReferenceShiftY, kernels.Reach));
        _scoreFluxScale = kernels.ScoreFluxScale;
        WorstPhaseFraction = kernels.ScoreProfile(0.5, 0.5);
        NoisePeaksPerPixel = NoisePeakDensity(kernels);
        Threshold = settings.FalseDetectionsPerMegapixel > 0
            ? Math.Max(settings.ThresholdSigma, ThresholdFor(settings.FalseDetectionsPerMegapixel / 2e6, NoisePeaksPerPixel))
            : settings.ThresholdSigma;
        CandidateThreshold = WorstPhaseFraction * Threshold;
        DeblendRadius = Math.Max(1.0, ScoreFwhm(kernels));
        DipoleRadius = 2 * DeblendRadius;
        var fwhm = kernels.DifferencePsf.FwhmPixels;
        _fitRadius = Math.Min(kernels.Reach, (int)Math.Ceiling(1.5 * (double.IsFinite(fwhm) && fwhm > 0 ? fwhm : 2)));
    }

    public TransientDetectorSettings Settings { get; }
    /// <summary>The threshold on S_corr in force: the settings' least, raised to the false-detection rate it allows.</summary>
    public double Threshold { get; }
    /// <summary>
    /// sqrt(det Lambda) / (2 pi)^(3/2) of the score's noise: times u exp(-u^2 / 2), the expected number of its local
    /// maxima above u per pixel (per sign).
    /// </summary>
    public double NoisePeaksPerPixel { get; }
    /// <summary>q: the share of a point source's score its nearest pixel keeps at the worst phase (1/2, 1/2).</summary>
    public double WorstPhaseFraction { get; }
    /// <summary>q T: pixels of S_corr below this cannot hold a source that reaches T at its own position.</summary>
    public double CandidateThreshold { get; }
    /// <summary>FWHM (pixels) of the score profile: two detections of one sign closer than this are one source.</summary>
    public double DeblendRadius { get; }
    /// <summary>Where the other lobe of a misregistered or mis-scaled source lies (twice the score FWHM).</summary>
    public double DipoleRadius { get; }
    /// <summary>How far beyond a searched box the map must reach (neighbour test, dipole lobe, the fit box).</summary>
    public int Margin => Math.Max((int)Math.Ceiling(DipoleRadius), _fitRadius) + 1;
    /// <summary>Pixels of a full PSF-fit box on D.</summary>
    public int FitBoxPixels => (2 * _fitRadius + 1) * (2 * _fitRadius + 1);

    /// <summary>
    /// alpha of the new image alone at a source near pixel (x, y): S_N / F_S at the best of the phases (what the source
    /// would measure as a transient; for the flux normalisation on the science image's stars). NaN where masked.
    /// </summary>
    public double NewImageFlux(LocalScore local, int x, int y)
    {
        ArgumentNullException.ThrowIfNull(local);
        var best = double.NaN;
        foreach (var k in _phases)
        {
            var s = local.Evaluate(x, y, k).NewScore;
            if (double.IsNaN(best) || s > best) best = s;
        }
        return best / local.Kernels.ScoreFluxScale;
    }

    /// <summary>
    /// Detections whose S_corr pixel lies in [x0, x1) x [y0, y1), found on <paramref name="map"/> (S_corr pixels of the
    /// box grown by <see cref="Margin"/>, row-major, NaN where masked) and measured through <paramref name="local"/>
    /// (the full image's or a window's inputs, with the difference attached for the fit).
    /// </summary>
    public IReadOnlyList<Transient> Detect(LocalScore local, ScoreMap map, int x0, int y0, int x1, int y1)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(map);
        var candidates = new List<(int X, int Y, int Sign)>();
        for (var y = y0; y < y1; y++)
            for (var x = x0; x < x1; x++)
            {
                var v = map.Corrected(x, y);
                if (!(Math.Abs(v) >= CandidateThreshold)) continue;
                var sign = Math.Sign(v);
                if (IsExtremum(map, x, y, sign)) candidates.Add((x, y, sign));
            }
        var refined = new Transient?[candidates.Count];
        Parallel.For(0, candidates.Count, c => refined[c] = Refine(local, map, candidates[c].X, candidates[c].Y, candidates[c].Sign));
        // The strongest score first: S_corr flattens on bright sources (their own source noise and model error grow
        // with them), so it would not tell a source's peak from its flanks.
        var kept = new List<Transient>();
        var r2 = DeblendRadius * DeblendRadius;
        foreach (var t in refined.OfType<Transient>().OrderByDescending(t => Math.Abs(t.Sample.Score)).ThenBy(t => t.PeakY).ThenBy(t => t.PeakX))
        {
            if (kept.Any(k => k.Sign == t.Sign && (k.X - t.X) * (k.X - t.X) + (k.Y - t.Y) * (k.Y - t.Y) < r2)) continue;
            kept.Add(t);
        }
        return kept;
    }

    /// <summary>
    /// Whether the score S at (x, y) is an extremum of its sign among the eight neighbours (ties to the lowest index;
    /// masked neighbours do not compete): the matched filter peaks at a source's position whatever its brightness.
    /// </summary>
    private static bool IsExtremum(ScoreMap map, int x, int y, int sign)
    {
        var value = sign * map.Score(x, y);
        if (!double.IsFinite(value)) return false;
        for (var dy = -1; dy <= 1; dy++)
            for (var dx = -1; dx <= 1; dx++)
            {
                if (dx == 0 && dy == 0) continue;
                var w = sign * map.Score(x + dx, y + dy);
                if (w > value || (w == value && (dy < 0 || (dy == 0 && dx < 0)))) return false;
            }
        return true;
    }

    /// <summary>
    /// The candidate at pixel (x, y) measured at its sub-pixel position — where S peaks among the phases, refined by a
    /// parabola — or null when S_corr there does not reach the threshold or the fit does not confirm it.
    /// </summary>
    private Transient? Refine(LocalScore local, ScoreMap map, int x, int y, int sign)
    {
        var samples = new ScoreSample[_phases.Length];
        var score = new double[_phases.Length];
        var best = -1;
        for (var k = 0; k < _phases.Length; k++)
        {
            samples[k] = local.Evaluate(x, y, _phases[k]);
            score[k] = sign * samples[k].Score;
            if (double.IsFinite(score[k]) && (best < 0 || score[k] > score[best])) best = k;
        }
        if (best < 0) return null;
        var sample = samples[best];
        var corrected = sign * sample.ScoreCorrected;
        if (!(corrected >= Threshold)) return null;
        var (ox, oy, gain) = PhasePeak(score, best);
        var (px, py) = (x + ox, y + oy);
        var fs = local.Kernels.ScoreFluxScale;
        var flux = (sample.Score + sign * gain) / fs;
        var fluxError = Math.Sqrt(sample.TotalVariance) / fs;

        var (fitFlux, fitError, chi2, dof, energy) = FitDifferencePsf(local, x, y, _phases[best]);
        if (!(sign * fitFlux / fitError >= Settings.ConfirmationFraction * Threshold)) return null;
        if (IsRejectedFit(chi2, dof, energy)) return null;
        return new Transient(px, py, x, y, sign, flux, fluxError, corrected, sample, fitFlux, fitError, chi2, dof, OppositePeak(map, x, y, sign));
    }

    /// <summary>
    /// Where S (signed so that the source is positive) peaks between the grid phases around the best one: the offset from
    /// the pixel and what the peak gains over the best grid value, by a parabola along each axis (S is smooth on this
    /// scale: the grid's quarter pixel alone would lose up to half a per cent of S).
    /// </summary>
    private static (double OffsetX, double OffsetY, double Gain) PhasePeak(double[] score, int best)
    {
        var n = PhaseGrid.Length;
        var (bi, bj) = (best % n, best / n);
        var step = PhaseGrid[1] - PhaseGrid[0];
        static (double Offset, double Gain) Parabola(double minus, double centre, double plus)
        {
            var curvature = minus - 2 * centre + plus;
            if (!(curvature < 0)) return (0, 0);
            var offset = Math.Clamp(0.5 * (minus - plus) / curvature, -0.5, 0.5);
            return (offset, -0.25 * (minus - plus) * offset);
        }
        var (ox, gx) = bi > 0 && bi < n - 1 ? Parabola(score[best - 1], score[best], score[best + 1]) : (0, 0);
        var (oy, gy) = bj > 0 && bj < n - 1 ? Parabola(score[best - n], score[best], score[best + n]) : (0, 0);
        return (PhaseGrid[bi] + ox * step, PhaseGrid[bj] + oy * step, gx + gy);
    }

    /// <summary>
    /// The alpha a noise-free point source of unit flux at (x, y) (0-based) would be given when detected at pixel
    /// (peakX, peakY): its pixels drawn by the effective PSF at its own sub-pixel phase (Anderson and King 2000, PASP 112,
    /// 1360), and S measured on them exactly as <see cref="Detect"/> measures a detection (the best of the phase-ramped
    /// kernels, refined by the parabola). The kernels' P_n is shift-invariant and band-limited; an undersampled source's
    /// pixels are not a band-limited shift of it, so alpha depends on the phase (pixel-phase aliasing). Dividing a
    /// detection's alpha by this response at its own position is PSF photometry with the ePSF at the source's phase.
    /// </summary>
    public double UnitFlux(Psf.EffectivePsf psf, double x, double y, int peakX, int peakY)
    {
        ArgumentNullException.ThrowIfNull(psf);
        var (r, side) = (_phases[0].Radius, _phases[0].Side);
        // stamp[j, i] = psi(peakX - r + i - x, peakY - r + j - y): the source's light at pixel offset (i - r, j - r).
        var stamp = new double[side * side];
        psf.RenderBox(x, y, peakX - r, peakY - r, side, side, stamp);
        var score = new double[_phases.Length];
        var best = 0;
        for (var k = 0; k < _phases.Length; k++)
        {
            // As LocalScore.Evaluate: S_N = sum over the box of k_n(u, v) N(peak - (u, v)).
            var kn = _phases[k].New;
            double s = 0;
            for (var v = -r; v <= r; v++)
                for (var u = -r; u <= r; u++) s += kn[(v + r) * side + u + r] * stamp[(r - v) * side + r - u];
            score[k] = s;
            if (s > score[best]) best = k;
        }
        var (_, _, gain) = PhasePeak(score, best);
        return (score[best] + gain) / _scoreFluxScale;
    }

    /// <summary>
    /// Whether a fit's chi^2 is no confirmation: improbable for its degrees of freedom (below
    /// <see cref="TransientDetectorSettings.RejectFitProbability"/>) and its excess over them more than
    /// <see cref="TransientDetectorSettings.RejectResidualFraction"/> of the fitted source's energy against the noise.
    /// </summary>
    internal bool IsRejectedFit(double chi2, int dof, double energy) =>
        FitProbability(chi2, dof) < Settings.RejectFitProbability && !(chi2 - dof <= Settings.RejectResidualFraction * energy);

    /// <summary>
    /// Weighted least-squares amplitude of P_D (placed at the detection's phase) on D within the fit radius: flux,
    /// its error, chi^2 and degrees of freedom; NaN when no pixel could be used. The chi^2 weighs each pixel by D's
    /// noise and the new image's PSF model error on the fitted source, (epsilon_n f m)^2, so a bright source is judged
    /// against the model error it carries, not against noise alone. Energy is the fitted source's S/N^2 against D's
    /// noise alone, sum (f m / sigma)^2.
    /// </summary>
    private (double Flux, double Error, double ChiSquare, int Dof, double Energy) FitDifferencePsf(LocalScore local, int x, int y, ShiftedKernels k)
    {
        var (r, side) = (k.Radius, k.Side);
        var pixels = new List<(double D, double S, double M)>();
        for (var v = -_fitRadius; v <= _fitRadius; v++)
            for (var u = -_fitRadius; u <= _fitRadius; u++)
            {
                var (d, s) = local.DifferenceAt(x + u, y + v);
                if (!double.IsFinite(d) || !(s > 0)) continue;
                pixels.Add((d, s, k.DifferencePsf[(v + r) * side + u + r]));
            }
        var e2 = local.Noise.NewModelError * local.Noise.NewModelError;
        double flux = 0, smm = 0;
        for (var pass = 0; pass < 2; pass++)
        {
            double sdm = 0;
            smm = 0;
            foreach (var (d, s, m) in pixels)
            {
                var variance = s * s + e2 * flux * flux * m * m;
                sdm += d * m / variance;
                smm += m * m / variance;
            }
            if (!(smm > 0)) return (double.NaN, double.NaN, double.NaN, 0, double.NaN);
            flux = sdm / smm;
        }
        double chi2 = 0, energy = 0;
        foreach (var (d, s, m) in pixels)
        {
            chi2 += (d - flux * m) * (d - flux * m) / (s * s + e2 * flux * flux * m * m);
            energy += flux * flux * m * m / (s * s);
        }
        return (flux, 1 / Math.Sqrt(smm), chi2, pixels.Count - 1, energy);
    }

    /// <summary>The strongest S_corr of the other sign within <see cref="DipoleRadius"/> of the pixel (0 if none; pixels off the map do not count).</summary>
    public double OppositePeak(ScoreMap map, int x, int y, int sign)
    {
        ArgumentNullException.ThrowIfNull(map);
        var r = (int)Math.Ceiling(DipoleRadius);
        var r2 = DipoleRadius * DipoleRadius;
        double worst = 0;
        for (var dy = -r; dy <= r; dy++)
            for (var dx = -r; dx <= r; dx++)
            {
                if (dx * dx + dy * dy > r2) continue;
                var v = -sign * map.Corrected(x + dx, y + dy);
                if (v > worst) worst = v;
            }
        return worst;
    }

    /// <summary>
    /// Whether a fit's chi^2 is improbable for its degrees of freedom (upper tail below
    /// <see cref="TransientDetectorSettings.PoorFitProbability"/>), by the Wilson and Hilferty (1931, PNAS 17, 684)
    /// cube-root normal approximation of the chi^2 distribution.
    /// </summary>
    public bool IsPoorFit(Transient t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return FitProbability(t.FitChiSquare, t.FitDegreesOfFreedom) < Settings.PoorFitProbability;
    }

    /// <summary>P(chi^2 >= the value) for k degrees of freedom (Wilson and Hilferty 1931); 1 when it cannot be judged.</summary>
    private static double FitProbability(double chi2, int dof)
    {
        var k = (double)dof;
        if (!(k > 0) || !double.IsFinite(chi2)) return 1;
        var z = (Math.Cbrt(chi2 / k) - (1 - 2 / (9 * k))) / Math.Sqrt(2 / (9 * k));
        return UpperTail(z);
    }

    /// <summary>The standard normal upper tail Q(z) (Abramowitz and Stegun 1964, 7.1.26 through erfc).</summary>
    private static double UpperTail(double z)
    {
        var x = Math.Abs(z) / Math.Sqrt(2);
        var t = 1 / (1 + 0.3275911 * x);
        var erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.Exp(-x * x);
        return z >= 0 ? 0.5 * erfc : 1 - 0.5 * erfc;
    }

    /// <summary>
    /// The Euler-characteristic density of a 2-D Gaussian random field above u, which for high u is the density of its
    /// local maxima (Adler 1981, The Geometry of Random Fields, ch. 5; Worsley et al. 1996, Hum. Brain Mapp. 4, 58):
    /// rho(u) = sqrt(det Lambda) / (2 pi)^(3/2) u exp(-u^2 / 2), Lambda the covariance of the field's gradient.
    /// </summary>
    private static double NoisePeakDensity(ZogyKernels kernels)
    {
        var (xx, yy, xy) = kernels.ScoreNoiseCurvature();
        return Math.Sqrt(Math.Max(0, xx * yy - xy * xy)) / Math.Pow(2 * Math.PI, 1.5);
    }

    /// <summary>The u at which the noise gives <paramref name="perPixel"/> peaks per pixel (per sign), by bisection.</summary>
    private static double ThresholdFor(double perPixel, double density)
    {
        if (!(perPixel > 0) || !(density > 0)) return 0;
        double lo = 1, hi = 40;
        for (var i = 0; i < 100; i++)
        {
            var mid = (lo + hi) / 2;
            if (density * mid * Math.Exp(-mid * mid / 2) > perPixel) lo = mid; else hi = mid;
        }
        return hi;
    }

    /// <summary>Full width at half maximum (pixels) of the score profile along x.</summary>
    private static double ScoreFwhm(ZogyKernels kernels)
    {
        double lo = 0, hi = 0.5;
        while (hi < kernels.StampSize && kernels.ScoreProfile(hi, 0) > 0.5) hi *= 2;
        for (var i = 0; i < 40; i++)
        {
            var mid = (lo + hi) / 2;
            if (kernels.ScoreProfile(mid, 0) > 0.5) lo = mid; else hi = mid;
        }
        return lo + hi;
    }
}

/// <summary>S and S_corr pixels of a box (row-major), addressed in the full image's coordinates; NaN off the box.</summary>
public sealed class ScoreMap
{
    private readonly float[] _score, _corrected;
    private readonly int _originX, _originY, _width, _height;

    public ScoreMap(float[] score, float[] corrected, int originX, int originY, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(corrected);
        if (score.Length != (long)width * height || corrected.Length != score.Length) throw new ArgumentException($"a {width} x {height} score map needs {width * height} values of each");
        (_score, _corrected, _originX, _originY, _width, _height) = (score, corrected, originX, originY, width, height);
    }

    /// <summary>The whole image's maps.</summary>
    public static ScoreMap Whole(ZogyResult zogy)
    {
        ArgumentNullException.ThrowIfNull(zogy);
        return new ScoreMap(zogy.Score, zogy.ScoreCorrected, 0, 0, zogy.Width, zogy.Height);
    }

    /// <summary>The maps of the box [x0, x1) x [y0, y1) computed pixel by pixel through <paramref name="local"/> (as the full transform would).</summary>
    public static ScoreMap Computed(LocalScore local, int x0, int y0, int x1, int y1)
    {
        ArgumentNullException.ThrowIfNull(local);
        var (ox, oy) = (Math.Max(0, x0), Math.Max(0, y0));
        var (ex, ey) = (Math.Min(local.Width, x1), Math.Min(local.Height, y1));
        var (w, h) = (Math.Max(0, ex - ox), Math.Max(0, ey - oy));
        var (score, corrected) = local.PixelMaps(ox, oy, ox + w, oy + h);
        return new ScoreMap(score, corrected, ox, oy, w, h);
    }

    public double Score(int x, int y) => Value(_score, x, y);

    public double Corrected(int x, int y) => Value(_corrected, x, y);

    private double Value(float[] values, int x, int y)
    {
        var (i, j) = (x - _originX, y - _originY);
        return i < 0 || j < 0 || i >= _width || j >= _height ? double.NaN : values[j * _width + i];
    }
}
