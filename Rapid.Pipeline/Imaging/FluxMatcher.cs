namespace Rapid.Pipeline.Imaging;

/// <summary>
/// The flux scale that maps the reference onto the science image (science ≈ Scale · reference) and the
/// astrometric residuals (science − reference position, pixels) of the matched stars.
/// Matched = false when too few stars matched: Scale is then the fallback the caller gave.
/// </summary>
public sealed record FluxMatch(bool Matched, double Scale, int MatchedStars, double DxMedian, double DyMedian, double DxRms, double DyRms);

/// <summary>
/// Matches bright stars measured on the science image and on the reference resampled onto the same grid,
/// and takes the median of their flux ratios (robust against variables and transients), as the
/// original system's gain matching from matched catalogs.
/// </summary>
public static class FluxMatcher
{
    public const int MinMatchedStars = 3;

    public static FluxMatch Match(IReadOnlyList<MeasuredStar> science, IReadOnlyList<MeasuredStar> reference, double fallbackScale, double matchRadius = 1.5)
    {
        var ratios = new List<float>();
        var dxs = new List<float>();
        var dys = new List<float>();
        foreach (var s in science)
        {
            MeasuredStar? best = null;
            var bestD2 = matchRadius * matchRadius;
            foreach (var r in reference)
            {
                var d2 = (s.X - r.X) * (s.X - r.X) + (s.Y - r.Y) * (s.Y - r.Y);
                if (d2 <= bestD2) { bestD2 = d2; best = r; }
            }
            if (best is null) continue;
            ratios.Add((float)(s.Flux / best.Flux));
            dxs.Add((float)(s.X - best.X));
            dys.Add((float)(s.Y - best.Y));
        }
        if (ratios.Count < MinMatchedStars)
            return new FluxMatch(false, fallbackScale, ratios.Count, Med(dxs), Med(dys), Rms(dxs), Rms(dys));
        return new FluxMatch(true, RobustStatistics.Median(ratios.ToArray()), ratios.Count, Med(dxs), Med(dys), Rms(dxs), Rms(dys));
    }

    private static double Med(List<float> values) => values.Count == 0 ? 0 : RobustStatistics.Median(values.ToArray());

    private static double Rms(List<float> values) => values.Count == 0 ? 0 : Math.Sqrt(values.Average(v => (double)v * v));
}
