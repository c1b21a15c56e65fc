using Rapid.Core.Sky;
using Rapid.Pipeline.Fits;

namespace Rapid.Cli.Bench.ImageSets;

/// <summary>A delivered catalog row: X, Y 1-based science pixels, RA/Dec degrees, FLUX/FLUXERR DN/s, Sign of the detection.</summary>
public sealed record DeliveredRow(double X, double Y, double RaDeg, double DecDeg, double Flux, double FluxError, int Sign, long Flags);

/// <summary>One target of issue 11 with its measured value.</summary>
public sealed record QualityTarget(string Measure, string Target, double Measured, bool Met, string Detail);

/// <summary>What false detections sat on, and how many.</summary>
public sealed record FalseSite(string What, int Count);

/// <summary>
/// The quality figures of one difference against its image set's truth (<see cref="ImageSetScorer"/> says how each
/// is defined). Magnitudes are AB.
/// </summary>
public sealed record ScienceQuality(
    string Renderer, int Changes,
    int Snr7Sources, int Snr7Found,
    double Magnitude50, double Limit5Sigma,
    int FluxSources, double MedianAbsoluteFluxError, double MedianFluxRatio,
    int PullSources, double PullRms, double PullMean,
    int Rows, int FalseDetections, int FalseAlongCoverageEdges, double DeliveredMegapixels, IReadOnlyList<FalseSite> FalseSites,
    int AstrometrySources, double MedianAstrometricErrorPixels)
{
    public double Completeness7 => Snr7Sources == 0 ? double.NaN : Snr7Found / (double)Snr7Sources;
    public double FalsePerMegapixel => DeliveredMegapixels > 0 ? FalseDetections / DeliveredMegapixels : double.NaN;
    /// <summary>The 1-sigma statistical error of <see cref="Magnitude50"/> (<see cref="ImageSetScorer.CompletenessMagnitudeError"/>).</summary>
    public double Magnitude50Error { get; init; } = double.NaN;
    /// <summary>
    /// Median over the found changes of true S/N 5-20 of FLUXERR over the ideal error (<see cref="IdealDifferenceNoise"/>):
    /// how much depth the delivered errors give away to the ideal PSF fit (2.5 log10 of it, in magnitudes).
    /// </summary>
    public double ErrorOverIdeal { get; init; } = double.NaN;
    /// <summary>
    /// Every true change's magnitude less <see cref="Limit5Sigma"/>, whether it was found, and whether it is a change of a
    /// star the reference holds too (a variable: its host's light adds source noise and the subtraction's residual
    /// terms, so at a given magnitude it is harder to find than a change on empty sky): the sample the completeness fits use.
    /// </summary>
    public IReadOnlyList<(double MagnitudeBelowLimit, bool Found, bool OnStar)> CompletenessSample { get; init; } = [];

    /// <summary>Changes of stars the reference holds too (variables) at true S/N >= 8: how many were found, of how many.</summary>
    public (int Found, int Of) SnrAtLeast8OnStar { get; init; }
    /// <summary>Changes on empty sky (transients) at true S/N >= 8: how many were found, of how many.</summary>
    public (int Found, int Of) SnrAtLeast8OnEmptySky { get; init; }

    /// <summary>The targets, each met or not.</summary>
    public IReadOnlyList<QualityTarget> Targets =>
    [
        new("completeness at true S/N >= 7", ">= 95 %", Completeness7, Completeness7 >= 0.95, $"{Snr7Found} of {Snr7Sources}"),
        new("50 % completeness mag - 5 sigma limit", "|.| <= 0.2 mag", Magnitude50 - Limit5Sigma, Math.Abs(Magnitude50 - Limit5Sigma) <= 0.2,
            $"m50 {Magnitude50:F2} ± {Magnitude50Error:F2} (statistical), limit {Limit5Sigma:F2}"),
        new("median |FLUX/true - 1|, S/N >= 20", "<= 2 %", MedianAbsoluteFluxError, MedianAbsoluteFluxError <= 0.02,
            $"{FluxSources} sources, median ratio {MedianFluxRatio:F4}"),
        new("pull rms (FLUX - true)/FLUXERR, S/N >= 10", "0.9 - 1.1", PullRms, PullRms is >= 0.9 and <= 1.1, $"{PullSources} sources, mean {PullMean:F2}"),
        new("false detections per 10^6 px (every row)", "<= 1", FalsePerMegapixel, FalsePerMegapixel <= 1,
            $"{FalseDetections} of {Rows} rows in {DeliveredMegapixels:F2} Mpx"),
        new("false detections along coverage edges", "0", FalseAlongCoverageEdges, FalseAlongCoverageEdges == 0, $"within {ImageSetScorer.EdgeRadiusPixels} px"),
        new("median RA/Dec error vs truth, S/N >= 20 (px)", "<= 0.1 px", MedianAstrometricErrorPixels, MedianAstrometricErrorPixels <= 0.1,
            $"{AstrometrySources} sources"),
    ];
}

/// <summary>
/// Scores a <c>rapid diff</c> out directory against an <see cref="ImageSet"/>'s truth; the same code for every renderer.
/// A true change is found by the closest unused catalog row within <see cref="MatchRadiusPixels"/> with its sign
/// (closest pairs first). Its true S/N is |science - reference flux| over <see cref="IdealDifferenceNoise"/>.
/// Completeness: found fraction at true S/N >= 7. The 50 % completeness magnitude: a logistic in magnitude fitted by
/// maximum likelihood to found / missed over every true change; the 5 sigma limit: the zero point less
/// 2.5 log10(5 x the median background-limited ideal error). Flux: median |FLUX/true - 1| over the found at S/N >= 20;
/// pulls (FLUX - true)/FLUXERR over the found at S/N >= 10 (where selection no longer biases them). False detections:
/// every catalog row (flagged ones too) farther than <see cref="FalseMatchRadiusPixels"/> from every true change of any
/// S/N, per 10^6 delivered (finite S_corr) pixels; those within <see cref="EdgeRadiusPixels"/> of a coverage edge (where
/// the number of reference frames covering the science image changes, or the image border) are counted apart too.
/// Astrometry: the angle between a found row's RA/Dec and the truth's, in pixels, median over S/N >= 20.
/// </summary>
public static class ImageSetScorer
{
    public const double MatchRadiusPixels = 1.0;
    public const double FalseMatchRadiusPixels = 3.0;
    public const int EdgeRadiusPixels = 10;
    /// <summary>False detections this close to a saturated star are said to sit on it.</summary>
    public const double SaturatedStarRadiusPixels = 25;

    public static ScienceQuality Score(ImageSet set, string outDirectory)
    {
        var rows = ReadCatalog(Path.Combine(outDirectory, "sources.fits"));
        var scorr = FitsFile.ReadImage(Path.Combine(outDirectory, "scorr.fits"));
        return Score(set, rows, scorr.Pixels.LongCount(float.IsFinite));
    }

    public static ScienceQuality Score(ImageSet set, IReadOnlyList<DeliveredRow> rows, long deliveredPixels)
    {
        var changes = set.Changes;
        var noise = changes.Select(c => IdealDifferenceNoise.Of(c, set)).ToArray();
        var background = changes.Select(c => IdealDifferenceNoise.Background(c.SciencePsf, c.ReferencePsf, set.StampSize,
            set.Manifest.ScienceNoise, set.Manifest.ReferenceNoise)).ToArray();
        var snr = changes.Select((c, i) => Math.Abs(c.DifferenceFlux) / noise[i]).ToArray();
        var match = Match(changes, rows);

        var snr7 = Enumerable.Range(0, changes.Count).Where(i => snr[i] >= 7).ToList();
        var found20 = Enumerable.Range(0, changes.Count).Where(i => snr[i] >= 20 && match[i] >= 0).ToList();
        var ratios = found20.Select(i => rows[match[i]].Flux / changes[i].DifferenceFlux).ToList();
        var pulls = Enumerable.Range(0, changes.Count).Where(i => snr[i] >= 10 && match[i] >= 0 && rows[match[i]].FluxError > 0)
            .Select(i => (rows[match[i]].Flux - changes[i].DifferenceFlux) / rows[match[i]].FluxError).ToList();
        var astrometry = found20.Select(i => SphericalGeometry.AngularSeparationDeg(rows[match[i]].RaDeg, rows[match[i]].DecDeg, changes[i].RaDeg, changes[i].DecDeg)
            * 3600 / set.Manifest.PixelScaleArcsec).ToList();

        var zp = set.Manifest.ZeroPoint;
        var mags = changes.Select(c => zp - 2.5 * Math.Log10(Math.Abs(c.DifferenceFlux))).ToArray();
        var found = match.Select(m => m >= 0).ToArray();
        var m50 = CompletenessMagnitude(mags, found, 0.5);
        var limit = zp - 2.5 * Math.Log10(5 * Median(background.Where(double.IsFinite).ToList()));

        var edges = NearCoverageEdge(set.Coverage, set.Width, set.Height, EdgeRadiusPixels);
        var falseRows = rows.Where(r => !changes.Any(c => Distance(r, c.X, c.Y) <= FalseMatchRadiusPixels)).ToList();
        var alongEdges = falseRows.Count(r => OnMap(edges, set.Width, set.Height, r.X, r.Y));
        var sites = falseRows.GroupBy(r => SiteOf(r, set, edges)).OrderByDescending(g => g.Count()).Select(g => new FalseSite(g.Key, g.Count())).ToList();

        return new ScienceQuality(set.Manifest.Renderer, changes.Count,
            snr7.Count, snr7.Count(i => match[i] >= 0), m50, limit,
            ratios.Count, Median(ratios.Select(r => Math.Abs(r - 1)).ToList()), Median(ratios),
            pulls.Count, pulls.Count == 0 ? double.NaN : Math.Sqrt(pulls.Average(p => p * p)), pulls.Count == 0 ? double.NaN : pulls.Average(),
            rows.Count, falseRows.Count, alongEdges, deliveredPixels / 1e6, sites,
            astrometry.Count, Median(astrometry))
        {
            Magnitude50Error = CompletenessMagnitudeError(mags, found),
            CompletenessSample = mags.Select((m, i) => (m - limit, found[i], changes[i].ReferenceFlux > 0)).ToList(),
            SnrAtLeast8OnStar = Tally(Enumerable.Range(0, changes.Count).Where(i => snr[i] >= 8 && changes[i].ReferenceFlux > 0), found),
            SnrAtLeast8OnEmptySky = Tally(Enumerable.Range(0, changes.Count).Where(i => snr[i] >= 8 && !(changes[i].ReferenceFlux > 0)), found),
            ErrorOverIdeal = Median(Enumerable.Range(0, changes.Count).Where(i => snr[i] is >= 5 and <= 20 && match[i] >= 0 && rows[match[i]].FluxError > 0)
                .Select(i => rows[match[i]].FluxError / noise[i]).ToList()),
        };
    }

    /// <summary>
    /// The 50 % completeness magnitude less the 5 sigma limit, and its 1-sigma error, from one logistic fitted to the
    /// changes of several sets together (each change's magnitude relative to its own set's limit): one 512² set holds
    /// ~20 changes in the transition and measures it to ±0.1-0.16 mag only.
    /// </summary>
    /// <remarks>
    /// <paramref name="emptySkyOnly"/>: only the changes on empty sky (no host in the reference), whose noise is the
    /// background the 5 sigma limit is computed from; the changes of stars (variables) have their host's source noise and
    /// residual terms on top, which a curve in magnitude cannot tell from depth.
    /// </remarks>
    public static (double Value, double Error) PooledMagnitude50BelowLimit(IEnumerable<ScienceQuality> sets, bool emptySkyOnly = false)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var sample = sets.SelectMany(q => q.CompletenessSample).Where(x => !emptySkyOnly || !x.OnStar).ToArray();
        var (mags, found) = (sample.Select(x => x.MagnitudeBelowLimit).ToArray(), sample.Select(x => x.Found).ToArray());
        return (CompletenessMagnitude(mags, found, 0.5), CompletenessMagnitudeError(mags, found));
    }

    private static (int Found, int Of) Tally(IEnumerable<int> changes, bool[] found)
    {
        var list = changes.ToList();
        return (list.Count(i => found[i]), list.Count);
    }

    /// <summary>
    /// The pull rms and mean over the pulls of several sets together (each set's weighted by its number of pulls): one
    /// 512² set's ~110 pulls move between seeds by more than their statistics (fitsh 0.67-1.16 over four seeds).
    /// </summary>
    public static (double Rms, double Mean, int Count) PooledPull(IEnumerable<ScienceQuality> sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var used = sets.Where(q => q.PullSources > 0).ToList();
        var count = used.Sum(q => q.PullSources);
        if (count == 0) return (double.NaN, double.NaN, 0);
        return (Math.Sqrt(used.Sum(q => q.PullSources * q.PullRms * q.PullRms) / count), used.Sum(q => q.PullSources * q.PullMean) / count, count);
    }

    /// <summary>Every row of a difference catalog (sources.fits, extension SOURCES).</summary>
    public static IReadOnlyList<DeliveredRow> ReadCatalog(string path)
    {
        var t = FitsFile.ReadTable(path, "SOURCES");
        var (x, y, ra, dec, flux, err, flags) = (t.GetDoubles("X_IMAGE"), t.GetDoubles("Y_IMAGE"), t.GetDoubles("RA"), t.GetDoubles("DEC"),
            t.GetDoubles("FLUX"), t.GetDoubles("FLUXERR"), t.GetLongs("FLAGS"));
        var sign = t.HasColumn("SIGN") ? t.GetLongs("SIGN") : flux.Select(f => (long)Math.Sign(f)).ToArray();
        return Enumerable.Range(0, t.RowCount).Select(i => new DeliveredRow(x[i], y[i], ra[i], dec[i], flux[i], err[i], (int)sign[i], flags[i])).ToList();
    }

    /// <summary>For each true change, the index of its row or -1: closest pairs first, one to one, same sign, within the match radius.</summary>
    public static int[] Match(IReadOnlyList<TrueChange> changes, IReadOnlyList<DeliveredRow> rows)
    {
        var pairs = new List<(int C, int R, double D)>();
        for (var c = 0; c < changes.Count; c++)
            for (var r = 0; r < rows.Count; r++)
            {
                var d = Distance(rows[r], changes[c].X, changes[c].Y);
                if (d <= MatchRadiusPixels && rows[r].Sign == Math.Sign(changes[c].DifferenceFlux)) pairs.Add((c, r, d));
            }
        var matchOf = Enumerable.Repeat(-1, changes.Count).ToArray();
        var used = new bool[rows.Count];
        foreach (var (c, r, _) in pairs.OrderBy(p => p.D))
        {
            if (matchOf[c] >= 0 || used[r]) continue;
            (matchOf[c], used[r]) = (r, true);
        }
        return matchOf;
    }

    /// <summary>
    /// The magnitude at which a logistic completeness 1 / (1 + exp((m - m_c) / w)) fitted by maximum likelihood to
    /// found / missed reaches <paramref name="level"/> (a grid search over m_c and w: robust with a few hundred sources).
    /// </summary>
    public static double CompletenessMagnitude(double[] mags, bool[] found, double level)
    {
        var (m, w) = CompletenessFit(mags, found);
        return m + w * Math.Log(1 / level - 1);
    }

    /// <summary>
    /// The 1-sigma error of the 50 % completeness magnitude from the fit's Fisher information (the inverse of
    /// sum_i grad p_i grad p_i^T / (p_i (1 - p_i)) over m_c and w, its m_c element): with ~150 changes spread over
    /// S/N 2-300 only ~20 fall in the logistic's transition, and m50 is uncertain by ~0.1 mag (a bootstrap of the
    /// photutils set gives 0.13).
    /// </summary>
    public static double CompletenessMagnitudeError(double[] mags, bool[] found)
    {
        var (m, w) = CompletenessFit(mags, found);
        if (!double.IsFinite(m)) return double.NaN;
        double imm = 0, imw = 0, iww = 0;
        foreach (var x in mags.Where(double.IsFinite))
        {
            var p = 1 / (1 + Math.Exp((x - m) / w));
            var q = p * (1 - p);
            if (!(q > 1e-12)) continue;
            var (dm, dw) = (q / w, q * (x - m) / (w * w));
            (imm, imw, iww) = (imm + dm * dm / q, imw + dm * dw / q, iww + dw * dw / q);
        }
        var det = imm * iww - imw * imw;
        return det > 0 ? Math.Sqrt(iww / det) : double.NaN;
    }

    /// <summary>The maximum-likelihood logistic (m_c, w); NaN when fewer than 10 magnitudes or no transition.</summary>
    private static (double M, double W) CompletenessFit(double[] mags, bool[] found)
    {
        var usable = Enumerable.Range(0, mags.Length).Where(i => double.IsFinite(mags[i])).ToList();
        if (usable.Count < 10 || usable.All(i => found[i]) || usable.All(i => !found[i])) return (double.NaN, double.NaN);
        var (lo, hi) = (usable.Min(i => mags[i]), usable.Max(i => mags[i]));
        double best = double.NegativeInfinity, bestM = double.NaN, bestW = double.NaN;
        for (var m = lo; m <= hi; m += 0.005)
            for (var w = 0.02; w <= 1.0; w *= 1.1)
            {
                double logL = 0;
                foreach (var i in usable)
                {
                    var p = 1 / (1 + Math.Exp((mags[i] - m) / w));
                    p = Math.Clamp(p, 1e-9, 1 - 1e-9);
                    logL += found[i] ? Math.Log(p) : Math.Log(1 - p);
                }
                if (logL > best) (best, bestM, bestW) = (logL, m, w);
            }
        return (bestM, bestW);
    }

    /// <summary>Pixels within <paramref name="radius"/> of a change in coverage or of the image border.</summary>
    public static bool[] NearCoverageEdge(float[] coverage, int width, int height, int radius)
    {
        var near = new bool[coverage.Length];
        void Mark(int cx, int cy)
        {
            for (var y = Math.Max(0, cy - radius); y <= Math.Min(height - 1, cy + radius); y++)
                for (var x = Math.Max(0, cx - radius); x <= Math.Min(width - 1, cx + radius); x++)
                    if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius) near[y * width + x] = true;
        }
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var c = coverage[y * width + x];
                var boundary = x == 0 || y == 0 || x == width - 1 || y == height - 1
                               || coverage[y * width + x - 1] != c || coverage[(y - 1) * width + x] != c;
                if (boundary) Mark(x, y);
            }
        return near;
    }

    private static bool OnMap(bool[] map, int width, int height, double x, double y)
    {
        var (i, j) = ((int)Math.Round(x - 1), (int)Math.Round(y - 1));
        return i >= 0 && j >= 0 && i < width && j < height && map[j * width + i];
    }

    private static string SiteOf(DeliveredRow r, ImageSet set, bool[] edges)
    {
        if (set.Stars.Any(s => s.Saturated && Distance(r, s.X, s.Y) <= SaturatedStarRadiusPixels)) return $"within {SaturatedStarRadiusPixels:0} px of a saturated star";
        if (OnMap(edges, set.Width, set.Height, r.X, r.Y)) return $"within {EdgeRadiusPixels} px of a coverage edge";
        return set.Stars.Any(s => Distance(r, s.X, s.Y) <= FalseMatchRadiusPixels) ? "on a constant star" : "on nothing (noise, artefact)";
    }

    private static double Distance(DeliveredRow r, double x, double y) => Math.Sqrt((r.X - x) * (r.X - x) + (r.Y - y) * (r.Y - y));

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        values.Sort();
        var n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
