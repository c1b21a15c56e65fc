namespace Rapid.Pipeline.Simulation.Injection;

/// <summary>A detection to match against injected sources: X, Y 1-based FITS pixels; flux and error in the caller's units.</summary>
public sealed record DetectedSource(double X, double Y, double Flux, double FluxError);

/// <summary>An injected source and what came back: the matched detection's flux, error and S/N (NaN when not found).</summary>
public sealed record RecoveryRow(InjectedSource Injected, double InjectedFlux, bool Found, double MeasuredFlux, double MeasuredFluxError,
    double SignalToNoise, double SeparationPixels);

/// <summary>Completeness and flux bias in one magnitude bin; FluxBias is the median (measured − injected)/injected of the found sources.</summary>
public sealed record CompletenessBin(double MagLow, double MagHigh, int Injected, int Found, double Completeness, double FluxBias);

/// <summary>Completeness versus magnitude; Magnitude50/90 are where completeness falls through 50 %/90 % (null when it never does within the bins).</summary>
public sealed record CompletenessSummary(IReadOnlyList<CompletenessBin> Bins, int Injected, int Found, double? Magnitude50, double? Magnitude90, double FluxBias);

/// <summary>
/// Scores injected against detected sources: one-to-one matching, closest pairs first, within a radius in pixels;
/// completeness per magnitude bin with the 50 % and 90 % completeness magnitudes interpolated between bin centres.
/// </summary>
public static class InjectionRecovery
{
    /// <param name="injectedToMeasuredFlux">Factor from injected DN to the detections' flux units (e.g. 1/EXPTIME for DN/s).</param>
    public static IReadOnlyList<RecoveryRow> Match(IReadOnlyList<InjectedSource> injected, IReadOnlyList<DetectedSource> detected,
        double radiusPixels = 1.5, double injectedToMeasuredFlux = 1.0)
    {
        var r2 = radiusPixels * radiusPixels;
        var pairs = new List<(int I, int D, double Dist2)>();
        for (var i = 0; i < injected.Count; i++)
            for (var d = 0; d < detected.Count; d++)
            {
                var dx = injected[i].X - detected[d].X;
                var dy = injected[i].Y - detected[d].Y;
                var dist2 = dx * dx + dy * dy;
                if (dist2 <= r2) pairs.Add((i, d, dist2));
            }
        var matchOf = new int[injected.Count];
        Array.Fill(matchOf, -1);
        var separation = new double[injected.Count];
        var used = new bool[detected.Count];
        foreach (var (i, d, dist2) in pairs.OrderBy(p => p.Dist2))
        {
            if (matchOf[i] >= 0 || used[d]) continue;
            matchOf[i] = d;
            used[d] = true;
            separation[i] = Math.Sqrt(dist2);
        }
        return injected.Select((s, i) =>
        {
            var flux = s.FluxDn * injectedToMeasuredFlux;
            if (matchOf[i] < 0) return new RecoveryRow(s, flux, false, double.NaN, double.NaN, double.NaN, double.NaN);
            var det = detected[matchOf[i]];
            return new RecoveryRow(s, flux, true, det.Flux, det.FluxError, det.FluxError > 0 ? det.Flux / det.FluxError : double.NaN, separation[i]);
        }).ToList();
    }

    public static CompletenessSummary Summarise(IReadOnlyList<RecoveryRow> rows, double binWidthMag = 0.5)
    {
        if (!(binWidthMag > 0)) throw new ArgumentException($"completeness: bin width {binWidthMag} mag must be > 0");
        if (rows.Count == 0) return new CompletenessSummary([], 0, 0, null, null, double.NaN);
        var lo = Math.Floor(rows.Min(r => r.Injected.Mag) / binWidthMag) * binWidthMag;
        var hi = rows.Max(r => r.Injected.Mag);
        var bins = new List<CompletenessBin>();
        for (var start = lo; start <= hi; start += binWidthMag)
        {
            var end = start + binWidthMag;
            var inBin = rows.Where(r => r.Injected.Mag >= start && r.Injected.Mag < end).ToList();
            if (inBin.Count == 0) continue;
            var found = inBin.Where(r => r.Found).ToList();
            bins.Add(new CompletenessBin(start, end, inBin.Count, found.Count, found.Count / (double)inBin.Count, MedianBias(found)));
        }
        return new CompletenessSummary(bins, rows.Count, rows.Count(r => r.Found),
            CrossingMagnitude(bins, 0.5), CrossingMagnitude(bins, 0.9), MedianBias(rows.Where(r => r.Found).ToList()));
    }

    private static double MedianBias(IReadOnlyList<RecoveryRow> found)
    {
        var biases = found.Where(r => r.InjectedFlux > 0).Select(r => (r.MeasuredFlux - r.InjectedFlux) / r.InjectedFlux).OrderBy(b => b).ToList();
        if (biases.Count == 0) return double.NaN;
        var mid = biases.Count / 2;
        return biases.Count % 2 == 1 ? biases[mid] : (biases[mid - 1] + biases[mid]) / 2;
    }

    /// <summary>Scanning from bright to faint, the magnitude where completeness first drops below the level (linear between bin centres).</summary>
    private static double? CrossingMagnitude(IReadOnlyList<CompletenessBin> bins, double level)
    {
        for (var k = 0; k < bins.Count; k++)
        {
            if (bins[k].Completeness >= level) continue;
            if (k == 0) return null;                 // already below the level in the brightest bin
            var (m0, c0) = ((bins[k - 1].MagLow + bins[k - 1].MagHigh) / 2, bins[k - 1].Completeness);
            var (m1, c1) = ((bins[k].MagLow + bins[k].MagHigh) / 2, bins[k].Completeness);
            return m0 + (c0 - level) / (c0 - c1) * (m1 - m0);
        }
        return null;
    }
}
