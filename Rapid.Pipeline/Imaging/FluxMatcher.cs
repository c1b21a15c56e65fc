namespace Rapid.Pipeline.Imaging;

/// <summary>
/// The flux scale that maps the reference onto the science image (science ≈ Scale · reference) and the
/// astrometric residuals (science − reference position, pixels) of the matched stars.
/// Matched = false when too few stars matched: Scale is then the fallback the caller gave.
/// MatchedStars counts every positional match; <see cref="ConstantStars"/> the science stars of the matches that
/// survived the flux-ratio clipping, and of those the point-like ones (<see cref="PointLike"/>) gave DxRms, DyRms.
/// </summary>
public sealed record FluxMatch(bool Matched, double Scale, int MatchedStars, double DxMedian, double DyMedian, double DxRms, double DyRms)
{
    /// <summary>Science-image stars of the matches whose flux ratio agrees with the scale (no transients, variables).</summary>
    public IReadOnlyList<MeasuredStar> ConstantStars { get; init; } = [];
    /// <summary>Of <see cref="ConstantStars"/>, those point-like on the reference (no galaxies): the astrometric sample.</summary>
    public IReadOnlyList<MeasuredStar> PointLike { get; init; } = [];
}

/// <summary>
/// Matches bright stars measured on the science image and on the reference resampled onto the same grid, as the
/// original system's gain matching from matched catalogs, robustly: the science epoch holds transients and variables
/// (flux changed, and a transient on a host galaxy also pulls the centroid by up to a pixel), galaxies (extended, their
/// centroids noisier) and mismatches. Measured at 4088^2 on the bench inputs: of 122 matches 31 were transients and 42
/// galaxies; their plain rms was 0.36 / 0.40 px while the 1.4826 MAD was 0.056 / 0.064 px, and the median ratio moved
/// by 1.3 % (3347 vs 3304 on stars alone), by 12 % between two runs.
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
            var (mx, my, rx, ry) = Residuals(pairs);
            return new FluxMatch(false, fallbackScale, pairs.Count, mx, my, rx, ry);
        }

        // Flux scale: the median of the ratios after clipping those beyond ClipSigma robust sigmas of the log ratio
        // (a transient brightens its host, a variable changes): the median alone already resists them, but with a
        // third of the matches changing it drifts by per cent; the clipped median does not.
        var logRatios = pairs.Select(p => p.S.Flux > 0 && p.R.Flux > 0 ? Math.Log(p.S.Flux / p.R.Flux) : double.NaN).ToArray();
        var keep = Clip(logRatios, pairs.Select(_ => true).ToArray());
        var constant = pairs.Where((_, i) => keep[i]).ToList();
        if (constant.Count < MinMatchedStars) constant = pairs;
        var scale = Math.Exp(RobustStatistics.Median(constant.Select(p => (float)Math.Log(p.S.Flux / p.R.Flux)).Where(float.IsFinite).ToArray()));
        if (!double.IsFinite(scale)) scale = RobustStatistics.Median(pairs.Select(p => (float)(p.S.Flux / p.R.Flux)).ToArray());

        // Astrometric residuals: point-like constant stars only, residuals beyond ClipSigma robust sigmas of the median
        // (in x or y) clipped, then the rms about 0 (a common offset is a misregistration too).
        var sharp = RobustStatistics.Percentile(constant.Select(p => (float)p.R.Fwhm).ToArray(), 25);
        var point = constant.Where(p => !(p.R.Fwhm > PointLikeFwhmFactor * sharp)).ToList();
        if (point.Count < MinMatchedStars) point = constant;
        var dx = point.Select(p => p.S.X - p.R.X).ToArray();
        var dy = point.Select(p => p.S.Y - p.R.Y).ToArray();
        var inPosition = Clip(dy, Clip(dx, point.Select(_ => true).ToArray()));
        var astrometric = point.Where((_, i) => inPosition[i]).ToList();
        if (astrometric.Count < MinMatchedStars) astrometric = point;
        var (dxMedian, dyMedian, dxRms, dyRms) = Residuals(astrometric);
        // ZOGY's sigma_x, sigma_y are the registration error, not the stars' own centroid noise, which the rms also
        // holds: that is removed in quadrature, at its photon-limited floor per axis, sigma_psf / SNR in each image
        // (King 1983, PASP 95, 163; the true centroid noise is larger, so what is removed is never more than noise).
        var noise2 = astrometric.Average(p => CentroidVariance(p.S) + CentroidVariance(p.R));
        dxRms = Math.Sqrt(Math.Max(0, dxRms * dxRms - noise2));
        dyRms = Math.Sqrt(Math.Max(0, dyRms * dyRms - noise2));
        return new FluxMatch(true, scale, pairs.Count, dxMedian, dyMedian, dxRms, dyRms)
        {
            ConstantStars = constant.Select(p => p.S).ToList(),
            PointLike = point.Select(p => p.S).ToList(),
        };
    }

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

    private static (double DxMedian, double DyMedian, double DxRms, double DyRms) Residuals(IReadOnlyList<(MeasuredStar S, MeasuredStar R)> pairs)
    {
        var dx = pairs.Select(p => (float)(p.S.X - p.R.X)).ToList();
        var dy = pairs.Select(p => (float)(p.S.Y - p.R.Y)).ToList();
        return (Med(dx), Med(dy), Rms(dx), Rms(dy));
    }

    private static double Med(List<float> values) => values.Count == 0 ? 0 : RobustStatistics.Median(values.ToArray());

    private static double Rms(List<float> values) => values.Count == 0 ? 0 : Math.Sqrt(values.Average(v => (double)v * v));
}
