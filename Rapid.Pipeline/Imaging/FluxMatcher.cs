using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Imaging;

/// <summary>
/// The flux scale that maps the reference onto the science image (science ≈ Scale · reference) with its fractional
/// error, and the astrometric residuals (science − reference position, pixels) of the matched stars: their medians
/// (the offset still to apply) and their rms about the medians less the stars' own centroid noise, with the medians'
/// own uncertainty added (what is left after the offset is applied; ZOGY's sigma_x, sigma_y).
/// Matched = false when too few stars matched: Scale is then the fallback the caller gave.
/// MatchedStars counts every positional match; <see cref="ConstantStars"/> the science stars of the matches that
/// survived the flux-ratio clipping, and of those the point-like ones (<see cref="PointLike"/>) gave the astrometry.
/// </summary>
public sealed record FluxMatch(bool Matched, double Scale, int MatchedStars, double DxMedian, double DyMedian, double DxRms, double DyRms)
{
    /// <summary>Fractional 1-sigma error of <see cref="Scale"/> (0 when unmatched).</summary>
    public double ScaleError { get; init; }
    /// <summary>The aperture correction in <see cref="Scale"/> (1 when the stars carry no wide fluxes) and its fractional error.</summary>
    public (double Factor, double Error, int Stars) ApertureCorrection { get; init; } = (1, 0, 0);
    /// <summary>Science-image stars of the matches whose flux ratio agrees with the scale (no transients, variables).</summary>
    public IReadOnlyList<MeasuredStar> ConstantStars { get; init; } = [];
    /// <summary>Of <see cref="ConstantStars"/>, those point-like on the reference (no galaxies): the astrometric sample.</summary>
    public IReadOnlyList<MeasuredStar> PointLike { get; init; } = [];
    /// <summary>The reference-image counterparts of <see cref="PointLike"/> (same order).</summary>
    public IReadOnlyList<MeasuredStar> PointLikeReference { get; init; } = [];
}

/// <summary>
/// Matches stars measured on the science image and on the reference resampled onto the same grid, as the original
/// system's gain matching from matched catalogs, robustly: the science epoch holds transients and variables
/// (flux changed, and a transient on a host galaxy also pulls the centroid by up to a pixel), galaxies (extended, their
/// centroids noisier) and mismatches. Measured at 4088^2 on the bench inputs: of 122 matches 31 were transients and 42
/// galaxies; their plain rms was 0.36 / 0.40 px while the 1.4826 MAD was 0.056 / 0.064 px.
/// The scale is the consensus mean of the clipped log ratios (Paule and Mandel 1982, J. Res. NBS 87, 377): each star
/// weighted by its own error and a common extra scatter chosen so the ratios' chi^2 per degree of freedom is 1 — so
/// neither a few bright stars with tiny errors nor many faint ones dominate, and the error is honest.
/// </summary>
public static class FluxMatcher
{
    public const int MinMatchedStars = 3;

    /// <summary>Clipping limit (robust sigmas) of the flux ratios and of the position residuals.</summary>
    public const double ClipSigma = 3.0;

    /// <summary>
    /// A star is point-like when its reference FWHM is at most this times the sharp end (lower quartile) of the
    /// reference FWHMs: the co-added reference's star FWHMs are tight (1.59-1.80 px at 4088^2, 5-95 %), galaxies'
    /// broader (5 % above 2.7 px); the single science exposure's moments scatter too much with pixel phase (1.1-2.2 px).
    /// </summary>
    public const double PointLikeFwhmFactor = 1.2;

    public static FluxMatch Match(IReadOnlyList<MeasuredStar> science, IReadOnlyList<MeasuredStar> reference, double fallbackScale, double matchRadius = 1.5)
    {
        var pairs = new List<(MeasuredStar S, MeasuredStar R)>();
        foreach (var s in science)
        {
            MeasuredStar? best = null;
            var bestD2 = matchRadius * matchRadius;
            foreach (var r in reference)
            {
                var d2 = (s.X - r.X) * (s.X - r.X) + (s.Y - r.Y) * (s.Y - r.Y);
                if (d2 <= bestD2) { bestD2 = d2; best = r; }
            }
            if (best is not null) pairs.Add((s, best));
        }
        if (pairs.Count < MinMatchedStars)
        {
            var (mx, my) = (Median(pairs.Select(p => p.S.X - p.R.X)), Median(pairs.Select(p => p.S.Y - p.R.Y)));
            return new FluxMatch(false, fallbackScale, pairs.Count, mx, my, double.NaN, double.NaN);
        }

        // Flux scale: log ratios beyond ClipSigma robust sigmas clipped (a transient brightens its host, a variable
        // changes), then their consensus mean.
        var logRatios = pairs.Select(p => p.S.Flux > 0 && p.R.Flux > 0 ? Math.Log(p.S.Flux / p.R.Flux) : double.NaN).ToArray();
        var keep = Clip(logRatios, pairs.Select(_ => true).ToArray());
        var constant = pairs.Where((_, i) => keep[i]).ToList();
        if (constant.Count < MinMatchedStars) constant = pairs.Where((_, i) => double.IsFinite(logRatios[i])).ToList();
        if (constant.Count < MinMatchedStars)
            return new FluxMatch(false, fallbackScale, pairs.Count, 0, 0, double.NaN, double.NaN);
        // Each star's relative errors are taken against its expected flux (the deep reference's, times the median ratio
        // for the science), not its measured one: an error relative to the measured flux gives the stars that fluctuated
        // up more weight, and the weighted mean came out high by ~2 n sigma_mean^2 (+1 % on 25 faint stars; the demo's
        // sky-limited science stars have 3-30 % errors). Each log ratio is corrected for the log's own bias
        // (E[ln F] = ln F_true - e^2/2 to second order) in both images.
        var logs = constant.Select(p => Math.Log(p.S.Flux / p.R.Flux)).ToArray();
        var first = Math.Exp(Median(logs));
        var errorsS = constant.Select(p => Relative(p.S.FluxError, first * p.R.Flux)).ToArray();
        var errorsR = constant.Select(p => Relative(p.R.FluxError, p.R.Flux)).ToArray();
        var (logScale, logError, _) = ConsensusMean(
            logs.Select((log, i) => log + (errorsS[i] * errorsS[i] - errorsR[i] * errorsR[i]) / 2).ToArray(),
            constant.Select((_, i) => Math.Sqrt(errorsS[i] * errorsS[i] + errorsR[i] * errorsR[i])).ToArray());
        var correction = ApertureCorrection(constant, first);
        logScale += correction.Log;
        logError = Math.Sqrt(logError * logError + correction.Error * correction.Error);

        // Astrometric residuals: point-like constant stars only, residuals beyond ClipSigma robust sigmas of the median
        // (in x or y) clipped. The median is the offset to apply; the rms about it, less the centroid noise, plus the
        // median's own uncertainty, is what registration leaves.
        var sharp = RobustStatistics.Percentile(constant.Select(p => (float)p.R.Fwhm).ToArray(), 25);
        var point = constant.Where(p => !(p.R.Fwhm > PointLikeFwhmFactor * sharp)).ToList();
        if (point.Count < MinMatchedStars) point = constant;
        var dx = point.Select(p => p.S.X - p.R.X).ToArray();
        var dy = point.Select(p => p.S.Y - p.R.Y).ToArray();
        var inPosition = Clip(dy, Clip(dx, point.Select(_ => true).ToArray()));
        var astrometric = point.Where((_, i) => inPosition[i]).ToList();
        if (astrometric.Count < MinMatchedStars) astrometric = point;
        // ZOGY's sigma_x, sigma_y are the registration error, not the stars' own centroid noise, which the scatter also
        // holds: that is removed in quadrature, at its photon-limited floor per axis, sigma_psf / SNR in each image
        // (King 1983, PASP 95, 163; the true centroid noise is larger, so what is removed is never more than noise).
        var noise2 = astrometric.Average(p => CentroidVariance(p.S) + CentroidVariance(p.R));
        var (dxMedian, dxRms) = OffsetAndResidual(astrometric.Select(p => p.S.X - p.R.X).ToArray(), noise2);
        var (dyMedian, dyRms) = OffsetAndResidual(astrometric.Select(p => p.S.Y - p.R.Y).ToArray(), noise2);
        return new FluxMatch(true, Math.Exp(logScale), pairs.Count, dxMedian, dyMedian, dxRms, dyRms)
        {
            ScaleError = logError,
            ApertureCorrection = (Math.Exp(correction.Log), correction.Error, correction.Stars),
            ConstantStars = constant.Select(p => p.S).ToList(),
            PointLike = point.Select(p => p.S).ToList(),
            PointLikeReference = point.Select(p => p.R).ToList(),
        };
    }

    /// <summary>
    /// The aperture correction (Stetson 1990, PASP 102, 932) from the narrow fluxes the ratio was measured with to the
    /// stars' wide-aperture fluxes, science against reference: the clipped consensus mean over the constant stars of
    /// ln(wide_S / narrow_S) - ln(wide_R / narrow_R). A star's error is that of the light between the two apertures
    /// (each image's variances and the two sums' covariance), relative to its expected flux (the reference's, times the
    /// first scale for the science), so the bright stars set it. (0, 0, 0) when the stars carry no wide fluxes.
    /// </summary>
    private static (double Log, double Error, int Stars) ApertureCorrection(IReadOnlyList<(MeasuredStar S, MeasuredStar R)> constant, double first)
    {
        var values = new List<double>();
        var errors = new List<double>();
        foreach (var (s, r) in constant)
        {
            if (!(s.WideFlux > 0) || !(r.WideFlux > 0) || !(r.Flux > 0)) continue;
            var (fs, fr) = (first * r.Flux, r.Flux);
            var variance = (s.WideFluxError * s.WideFluxError + s.FluxError * s.FluxError - 2 * s.WideCovariance) / (fs * fs)
                           + (r.WideFluxError * r.WideFluxError + r.FluxError * r.FluxError - 2 * r.WideCovariance) / (fr * fr);
            if (!(variance > 0) || !double.IsFinite(variance)) continue;
            values.Add(Math.Log(s.WideFlux / s.Flux) - Math.Log(r.WideFlux / r.Flux));
            errors.Add(Math.Sqrt(variance));
        }
        if (values.Count < MinMatchedStars) return (0, 0, 0);
        var (mean, error, _, used) = ClippedConsensusMean([.. values], [.. errors]);
        return (mean, error, used);
    }

    /// <summary>
    /// The median offset and the residual scatter about it: the 1.4826 MAD less the noise variance, with the median's own
    /// standard error (1.2533 sigma / sqrt(n) for a normal sample) added in quadrature.
    /// </summary>
    private static (double Median, double Residual) OffsetAndResidual(double[] values, double noiseVariance)
    {
        var median = Median(values);
        var scatter = 1.4826 * Median(values.Select(v => Math.Abs(v - median)));
        var registration2 = Math.Max(0, scatter * scatter - noiseVariance);
        var medianError2 = Math.Pow(1.2533 * scatter, 2) / values.Length;
        return (median, Math.Sqrt(registration2 + medianError2));
    }

    /// <summary>
    /// Paule-Mandel consensus mean of values with errors: the weights 1 / (e_i^2 + tau^2) with tau >= 0 such that the
    /// weighted chi^2 about the mean is n - 1 (tau = 0 when the errors already explain the scatter); returns the mean,
    /// its standard error 1 / sqrt(sum of the weights) and tau (the scatter the errors do not explain).
    /// </summary>
    internal static (double Mean, double Error, double Scatter) ConsensusMean(double[] values, double[] errors)
    {
        var n = values.Length;
        double Chi2(double tau2, out double mean, out double weightSum)
        {
            double sw = 0, swx = 0;
            for (var i = 0; i < n; i++)
            {
                var w = 1 / (errors[i] * errors[i] + tau2);
                sw += w;
                swx += w * values[i];
            }
            (mean, weightSum) = (swx / sw, sw);
            double chi = 0;
            for (var i = 0; i < n; i++) chi += (values[i] - mean) * (values[i] - mean) / (errors[i] * errors[i] + tau2);
            return chi;
        }
        for (var i = 0; i < n; i++)
            if (!(errors[i] > 0) || !double.IsFinite(errors[i])) errors[i] = 1e-6;
        var chi0 = Chi2(0, out var m0, out var w0);
        if (n < 2 || chi0 <= n - 1) return (m0, 1 / Math.Sqrt(w0), 0);
        // chi^2(tau^2) falls monotonically: bisect on tau^2 between 0 and the values' variance times a margin.
        var spread = values.Max() - values.Min();
        double lo = 0, hi = spread * spread + 1e-12;
        for (var k = 0; k < 200 && Chi2(hi, out _, out _) > n - 1; k++) hi *= 4;
        for (var k = 0; k < 100; k++)
        {
            var mid = (lo + hi) / 2;
            if (Chi2(mid, out _, out _) > n - 1) lo = mid; else hi = mid;
        }
        Chi2(hi, out var mean, out var weights);
        return (mean, 1 / Math.Sqrt(weights), Math.Sqrt(hi));
    }

    /// <summary>The consensus mean of the values within <see cref="ClipSigma"/> robust sigmas of their median (all of them when fewer than three would stay) and how many it used.</summary>
    internal static (double Mean, double Error, double Scatter, int Used) ClippedConsensusMean(double[] values, double[] errors)
    {
        var keep = Clip(values, values.Select(_ => true).ToArray());
        if (keep.Count(k => k) < MinMatchedStars) keep = values.Select(double.IsFinite).ToArray();
        var (mean, error, scatter) = ConsensusMean(values.Where((_, i) => keep[i]).ToArray(), errors.Where((_, i) => keep[i]).ToArray());
        return (mean, error, scatter, keep.Count(k => k));
    }

    private static double Relative(double error, double expectedFlux) => expectedFlux > 0 && error > 0 && double.IsFinite(error / expectedFlux) ? error / expectedFlux : 0;

    /// <summary>(sigma_psf / SNR)^2 per axis, sigma_psf = FWHM / 2.3548; 0 when the star has no usable error.</summary>
    private static double CentroidVariance(MeasuredStar star)
    {
        if (!(star.Flux > 0) || !(star.FluxError > 0) || !double.IsFinite(star.Fwhm)) return 0;
        var sigma = star.Fwhm / 2.3548 * star.FluxError / star.Flux;
        return sigma * sigma;
    }

    /// <summary>
    /// Which of the values (among those already kept) lie within ClipSigma robust sigmas (1.4826 MAD) of their median,
    /// iterated until nothing more is clipped. A zero MAD (identical values) clips only values that differ.
    /// </summary>
    private static bool[] Clip(double[] values, bool[] keep)
    {
        var kept = (bool[])keep.Clone();
        var f = values.Select(v => (float)v).ToArray();
        for (var i = 0; i < f.Length; i++) if (!float.IsFinite(f[i])) kept[i] = false;
        for (var iteration = 0; iteration < 10; iteration++)
        {
            var current = f.Where((_, i) => kept[i]).ToArray();
            if (current.Length < MinMatchedStars) return kept;
            var median = RobustStatistics.Median(current);
            var mad = RobustStatistics.Median(current.Select(v => (float)Math.Abs(v - median)).ToArray());
            var limit = ClipSigma * 1.4826 * mad;
            var changed = false;
            for (var i = 0; i < f.Length; i++)
            {
                if (!kept[i] || Math.Abs(f[i] - median) <= limit) continue;
                kept[i] = false;
                changed = true;
            }
            if (!changed) break;
        }
        return kept;
    }

    private static double Median(IEnumerable<double> values)
    {
        var array = values.Select(v => (float)v).ToArray();
        return array.Length == 0 ? 0 : RobustStatistics.Median(array);
    }
}

/// <summary>
/// Stars for flux matching, measured by forced photometry at the reference's sources: the reference (a deep co-add on
/// the science grid) is searched for sources above <see cref="MinSignificance"/> sigma, each is centred by SExtractor's
/// windowed centroid (XWIN) on the reference and, from there, on the science image, and both images are measured there
/// by <see cref="CrossConvolvedFlux"/> (each image cross-convolved with the other's PSF and summed in a small aperture of
/// the common profile, ~2/3 of a 10 px aperture's sky noise, with the 10 px sums beside for the aperture correction
/// <see cref="FluxMatcher"/> applies). A science position that
/// wanders off (a cosmic ray, a transient beside the star) drops the pair; nothing is matched by proximity alone, so a
/// sparse field cannot pair the wrong stars.
/// </summary>
public static class StarPairs
{
    public const double MinSignificance = 20;
    /// <summary>
    /// Aperture radius (pixels) of the total fluxes the detection step normalises ZOGY's alpha by
    /// (<see cref="Subtraction.FluxNormalisation"/>): a Moffat beta = 2.5 PSF of FWHM 1.7-1.9 px keeps 0.3-0.4 % of its
    /// light beyond 10 px.
    /// </summary>
    public const double ApertureRadius = 10;
    /// <summary>At most this many of the brightest reference sources are measured.</summary>
    public const int MaxStars = 1000;

    /// <summary>Science and reference stars in matching order (same index, same source); images background-subtracted.</summary>
    public static (IReadOnlyList<MeasuredStar> Science, IReadOnlyList<MeasuredStar> Reference) Measure(
        float[] science, float[] scienceVariance, float[] reference, float[] referenceVariance, int width, int height,
        double scienceFwhm, double referenceFwhm, CrossConvolvedFlux flux)
    {
        ArgumentNullException.ThrowIfNull(flux);
        var significance = ImageArithmetic.Significance(reference, referenceVariance);
        var peaks = new PeakDetector(MinSignificance, minPixels: 3, peakRadius: 3)
            .Detect(significance, reference, width, height, includeNegative: false)
            .OrderByDescending(d => d.PeakSignificance).Take(MaxStars).ToList();
        var margin = flux.HalfWidth + 2;
        var found = new (MeasuredStar S, MeasuredStar R)?[peaks.Count];
        Parallel.For(0, peaks.Count, k =>
        {
            var p = peaks[k];
            if (p.X < margin || p.Y < margin || p.X > width - 1 - margin || p.Y > height - 1 - margin) return;
            if (PsfShape.WindowedCentroid(reference, width, height, p.X, p.Y, Window(referenceFwhm)) is not { } r) return;
            if (PsfShape.WindowedCentroid(science, width, height, r.X, r.Y, Window(scienceFwhm)) is not { } s) return;
            if (Math.Abs(s.X - r.X) > 1.5 || Math.Abs(s.Y - r.Y) > 1.5) return;
            // Both weighted sums at the same pixel: the star has the same sub-pixel phase in both images.
            var (cx, cy) = ((int)Math.Round(r.X), (int)Math.Round(r.Y));
            if (flux.Reference(reference, referenceVariance, width, height, cx, cy) is not { } fr
                || flux.Science(science, scienceVariance, width, height, cx, cy) is not { } fs
                || !(fr.Flux > 0) || !(fs.Flux > 0)) return;
            found[k] = (Star(s.X, s.Y, fs, StarMeasurement.MomentFwhm(science, width, height, s.X, s.Y)),
                        Star(r.X, r.Y, fr, StarMeasurement.MomentFwhm(reference, width, height, r.X, r.Y)));
        });
        var pairs = found.OfType<(MeasuredStar S, MeasuredStar R)>().ToList();
        return (pairs.Select(p => p.S).ToList(), pairs.Select(p => p.R).ToList());
    }

    private static MeasuredStar Star(double x, double y, CrossConvolvedStar m, double fwhm) =>
        new(x, y, m.Flux, m.Error, fwhm) { WideFlux = m.Wide, WideFluxError = m.WideError, WideCovariance = m.Covariance };

    private static double Window(double fwhm) => double.IsFinite(fwhm) && fwhm > 0 ? fwhm : 2;
}
