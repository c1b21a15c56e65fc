using System.Globalization;

namespace Rapid.Functions.Report.Data;

/// <summary>
/// Judges each science image: absolute limits (flux scale against the zero points' prediction, astrometric rms) and
/// outliers of the night per filter (robust z-score: distance from the filter's median in units of 1.4826 × MAD, on
/// the side that is worse for each figure). A failed, lost or open job is bad; a degraded one at least suspect.
/// </summary>
public static class ImageVerdicts
{
    /// <summary>Which side of the median is worse for each figure (+1 high is worse, −1 low is worse, 0 both).</summary>
    private static readonly (QualityFigure Figure, int WorseSide, Func<ImageQuality, double?> Value, string Name)[] Figures =
    [
        (QualityFigure.FluxScaleRatio, 0, q => q.FluxScaleRatio, "flux scale / prediction"),
        (QualityFigure.FwhmScience, +1, q => q.FwhmScience, "FWHM"),
        (QualityFigure.AstrometricRms, +1, q => q.AstrometricRms, "astrometric rms"),
        (QualityFigure.FakeCompleteness, -1, q => q.FakeCompleteness, "fakes found"),
        (QualityFigure.Mag50, -1, q => q.Mag50, "m50"),
        (QualityFigure.UnexplainedPerDeg2, +1, q => q.UnexplainedPerDeg2, "unexplained detections per deg²"),
    ];

    public static IReadOnlyList<ImageQuality> Judge(IReadOnlyList<ImageQuality> images, NightReportOptions options)
    {
        var outliers = images.ToDictionary(i => i.Jid, _ => new HashSet<QualityFigure>());
        var outlierReasons = images.ToDictionary(i => i.Jid, _ => new List<string>());
        foreach (var filter in images.GroupBy(i => i.Filter))
        {
            foreach (var (figure, side, value, name) in Figures)
            {
                var values = filter.Select(i => (i.Jid, V: value(i))).Where(v => v.V is double d && double.IsFinite(d)).Select(v => (v.Jid, V: v.V!.Value)).ToList();
                if (values.Count < options.MinImagesForOutliers) continue;
                var median = Median(values.Select(v => v.V));
                var sigma = 1.4826 * Median(values.Select(v => Math.Abs(v.V - median)));
                if (!(sigma > 0)) continue;
                foreach (var (jid, v) in values)
                {
                    var z = (v - median) / sigma;
                    var worse = side == 0 ? Math.Abs(z) : side * z;
                    if (worse <= options.OutlierSigma) continue;
                    outliers[jid].Add(figure);
                    outlierReasons[jid].Add(string.Create(CultureInfo.InvariantCulture, $"{name} {v:G4} is an outlier of {filter.Key} (median {median:G4}, {z:+0.0;-0.0} σ)"));
                }
            }
        }
        return images.Select(i => Judge(i, options, outliers[i.Jid], outlierReasons[i.Jid])).ToList();
    }

    private static ImageQuality Judge(ImageQuality i, NightReportOptions o, HashSet<QualityFigure> outliers, List<string> outlierReasons)
    {
        var bad = new List<string>();
        var suspect = new List<string>();
        switch (i.Outcome)
        {
            case JobOutcomeClass.Failed or JobOutcomeClass.Lost:
                bad.Add($"the job {i.Outcome.Title()} (exit {i.ExitCode})");
                break;
            case JobOutcomeClass.Open:
                bad.Add("the job never closed");
                break;
            case JobOutcomeClass.NoReference:
                return i with { Verdict = ImageVerdict.NotRated, VerdictReasons = ["no reference image possible (exit 33)"], Outliers = outliers };
            case JobOutcomeClass.Degraded:
                suspect.Add(i.Warnings.Count > 0 ? "warnings: " + string.Join("; ", i.Warnings) : $"degraded (exit {i.ExitCode})");
                break;
        }
        if (i.FluxScaleRatio is double r)
        {
            var off = Math.Abs(r - 1);
            var text = string.Create(CultureInfo.InvariantCulture, $"flux scale {i.FluxScale:G4} is {r:0.000} × the zero points' prediction {i.PredictedFluxScale:G4}");
            if (off > 2 * o.FluxScaleTolerance) bad.Add(text);
            else if (off > o.FluxScaleTolerance) suspect.Add(text);
        }
        if (i.AstrometricRms is double a)
        {
            var text = string.Create(CultureInfo.InvariantCulture, $"astrometric rms {a:0.000} px (limit {o.MaxAstrometricRmsPixels:0.###})");
            if (a > 2 * o.MaxAstrometricRmsPixels) bad.Add(text);
            else if (a > o.MaxAstrometricRmsPixels) suspect.Add(text);
        }
        suspect.AddRange(outlierReasons);
        var verdict = bad.Count > 0 ? ImageVerdict.Bad : suspect.Count > 0 ? ImageVerdict.Suspect : ImageVerdict.Good;
        return i with { Verdict = verdict, VerdictReasons = [.. bad, .. suspect], Outliers = outliers };
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : 0.5 * (sorted[m - 1] + sorted[m]);
    }
}
