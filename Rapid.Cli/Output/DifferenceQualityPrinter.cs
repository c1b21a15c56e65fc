using System.Globalization;
using Rapid.Cli.Bench;
using Spectre.Console;

namespace Rapid.Cli.Output;

/// <summary>
/// The quality table of <c>rapid bench science</c>: issue 11's targets (the same as on the independent image sets), then
/// issue 4's completeness at S/N 10 and S_corr statistics, for (a) and (b), measured against target.
/// </summary>
public static class DifferenceQualityPrinter
{
    /// <summary>Issue 11's targets, and issue 4's S_corr statistics.</summary>
    private const double MinCompleteness = 0.95, MaxMagnitude50Offset = 0.2, MaxMedianFluxError = 0.02, MinPullRms = 0.9, MaxPullRms = 1.1,
        MaxFalsePerMegapixel = 1, MaxAstrometricErrorPixels = 0.1, MaxAbsScoreMean = 0.05, MinScoreRms = 0.9, MaxScoreRms = 1.1;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Print(IAnsiConsole console, BenchedDiff a, BenchedDiff b)
    {
        var (qa, qb) = (a.Quality, b.Quality);
        var table = new Table()
            .Title("Quality against the simulator's truth (true difference = science-epoch minus mean reference-epoch flux, DN/s; true S/N from the noise of D under P_D)")
            .AddColumn("figure").AddColumn("target")
            .AddColumn(new TableColumn(Markup.Escape(a.Title)).RightAligned()).AddColumn("")
            .AddColumn(new TableColumn(Markup.Escape(b.Title)).RightAligned()).AddColumn("");
        void Row(string figure, string target, Func<DifferenceQualityFigures, (double Value, string Text)> measure, Func<double, bool> met)
        {
            var (va, ta) = measure(qa);
            var (vb, tb) = measure(qb);
            table.AddRow(Markup.Escape(figure), Markup.Escape(target), Markup.Escape(ta), Verdict(va, met), Markup.Escape(tb), Verdict(vb, met));
        }

        Row($"completeness, true S/N >= 7, within {DifferenceQuality.MatchRadiusPixels:0} px", ">= 95 %",
            q => (q.Completeness7, $"{Percent(q.Completeness7)} ({q.Snr7Found} of {q.Snr7Sources})"), v => v >= MinCompleteness);
        Row("50 % completeness mag - 5 sigma limit", "|.| <= 0.2 mag",
            q => (q.Magnitude50 - q.Limit5Sigma, $"{F(q.Magnitude50 - q.Limit5Sigma, "0.00")} (m50 {F(q.Magnitude50, "0.00")}, limit {F(q.Limit5Sigma, "0.00")})"),
            v => Math.Abs(v) <= MaxMagnitude50Offset);
        Row("median |FLUX/true - 1|, true S/N >= 20", "<= 2 %",
            q => (q.MedianAbsoluteFluxError, $"{Percent(q.MedianAbsoluteFluxError)} ({q.Snr20Found} found)"), v => v <= MaxMedianFluxError);
        Row("pull rms (FLUX - true)/FLUXERR, true S/N >= 10", "0.9 - 1.1",
            q => (q.PullRms, $"{F(q.PullRms, "0.000")} ({q.PullSources} found)"), v => v is >= MinPullRms and <= MaxPullRms);
        Row("false detections per 10^6 unmasked px, every row", "<= 1",
            q => (q.FalseEveryRowPerMegapixel, $"{F(q.FalseEveryRowPerMegapixel, "0.00")} ({q.FalseDetections + q.NearSaturatedDetections} in {F(q.UnmaskedMegapixels, "0.0")} Mpx, {q.NearSaturatedDetections} flagged near saturated stars)"),
            v => v <= MaxFalsePerMegapixel);
        Row("median RA/Dec error vs truth, true S/N >= 20", "<= 0.1 px",
            q => (q.MedianAstrometricErrorPixels, $"{F(q.MedianAstrometricErrorPixels, "0.000")} px ({q.AstrometrySources} found)"), v => v <= MaxAstrometricErrorPixels);
        Row($"completeness, true S/N >= 10 (issue 4)", ">= 95 %",
            q => (q.Completeness, $"{Percent(q.Completeness)} ({q.Snr10Found} of {q.Snr10Sources})"), v => v >= MinCompleteness);
        Row("S_corr mean, 4-sigma clipped, away from sources", "within 0.05",
            q => (q.Score.Mean, F(q.Score.Mean, "0.0000")), v => Math.Abs(v) <= MaxAbsScoreMean);
        Row("S_corr rms, 4-sigma clipped, away from sources", "0.9 - 1.1",
            q => (q.Score.Rms, $"{F(q.Score.Rms, "0.0000")} ({F(q.Score.Pixels / 1e6, "0.0")} Mpx)"), v => v is >= MinScoreRms and <= MaxScoreRms);
        console.Write(table);

        foreach (var d in new[] { a, b })
        {
            var q = d.Quality;
            console.MarkupLine(Markup.Escape(string.Create(Inv,
                $"{d.Title}: {q.TrueSources} true changing sources; {q.Snr10Sources - q.Snr10Found} of S/N >= 10 missed, {q.Snr10MissedAboveThreshold} of them with |S_corr| >= {q.DetectionThresholdSigma:0.#} within 1 px; median FLUX/true {F(q.MedianFluxRatio, "0.000")}, pull mean {F(q.PullMean, "0.00")}; ZOGY astrometric rms from the matched stars {Astrometry(d)}; {q.NearSaturatedDetections} unmatched detections flagged near saturated stars (FLAGS & 2); the others sit on: ")
                + (q.FalseSites.Count == 0 ? "none" : string.Join(", ", q.FalseSites.Select(s => string.Create(Inv, $"{s.What} {s.Count}"))))));
        }
    }

    private static string Astrometry(BenchedDiff d) =>
        d.Manifest.DifferenceImage is { } m ? $"x {F(m.DxRms, "0.000")} px, y {F(m.DyRms, "0.000")} px" : "unknown";

    private static string Verdict(double value, Func<double, bool> met) =>
        !double.IsFinite(value) ? "[yellow]n/a[/]" : met(value) ? "[green]met[/]" : "[red]missed[/]";

    private static string Percent(double fraction) => double.IsFinite(fraction) ? (100 * fraction).ToString("0.0", Inv) + " %" : "n/a";
    private static string F(double value, string format) => double.IsFinite(value) ? value.ToString(format, Inv) : "n/a";
}
