using Rapid.Core.Pipelines;
using Rapid.Functions.Report.Data;
using Rapid.Functions.Steps;
using ScottPlot;

namespace Rapid.Functions.Report.Plots;

/// <summary>
/// The report's plots, drawn with ScottPlot into PNGs (embedded in the page as data URIs). Each returns null when there
/// is nothing to plot, so the page says so instead of showing empty axes.
/// </summary>
public static class ReportPlots
{
    public const int Width = 880, Height = 360;

    /// <summary>Above this many jobs the timeline shows how many ran at once instead of one bar per job.</summary>
    public const int MaxJobBars = 600;

    private static readonly Color Failed = Color.FromHex("#d62728");

    static ReportPlots() => EmbeddedFont.Install();

    /// <summary>Fixed colours per pipeline, so every plot and table of the page agrees.</summary>
    public static string PipelineColor(int ppid) => ppid switch
    {
        PipelineIds.ReferenceImage => "#1f77b4",
        PipelineIds.Science => "#ff7f0e",
        PipelineIds.PostProcessing => "#2ca02c",
        PipelineIds.NightRecovery => "#9467bd",
        _ => "#7f7f7f",
    };

    private static readonly string[] FilterColors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

    /// <summary>
    /// One bar per job from its start to its end (Nextflow's timeline), jobs grouped by pipeline in order of start;
    /// failed, lost and open jobs red. Minutes since the night's first job started.
    /// </summary>
    public static byte[]? JobBars(IReadOnlyList<JobRun> jobs, DateTimeOffset origin)
    {
        var ran = jobs.Where(j => j.Started is not null).OrderBy(j => j.Ppid).ThenBy(j => j.Started).ThenBy(j => j.Jid).ToList();
        if (ran.Count == 0 || ran.Count > MaxJobBars) return null;
        var plot = NewPlot("Jobs from start to end", $"minutes since {origin:yyyy-MM-dd HH:mm:ss} UTC", "");
        var end = ran.Max(j => j.Ended ?? j.Started!.Value);
        for (var i = 0; i < ran.Count; i++)
        {
            var j = ran[i];
            var x1 = Minutes(j.Started!.Value, origin);
            var x2 = Math.Max(Minutes(j.Ended ?? end, origin), x1 + 0.002);
            var rect = plot.Add.Rectangle(x1, x2, i + 0.1, i + 0.9);
            rect.FillColor = j.Outcome.IsFault() ? Failed : Color.FromHex(PipelineColor(j.Ppid));
            rect.LineWidth = 0;
        }
        var ticks = ran.Select((j, i) => (j, i)).GroupBy(t => t.j.Ppid)
            .Select(g => new Tick(g.Average(t => t.i) + 0.5, $"ppid {g.Key}")).ToArray();
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.SetLimitsY(ran.Count, 0);
        foreach (var ppid in ran.Select(j => j.Ppid).Distinct())
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = PipelineIds.Describe(ppid), FillColor = Color.FromHex(PipelineColor(ppid)) });
        if (ran.Any(j => j.Outcome.IsFault())) plot.Legend.ManualItems.Add(new LegendItem { LabelText = "failed, lost or open", FillColor = Failed });
        plot.ShowLegend(Alignment.LowerRight);
        return Png(plot, Width, Math.Clamp(80 + 6 * ran.Count, 220, 720));
    }

    /// <summary>How many jobs of each pipeline were running, over the night (minutes since the first start).</summary>
    public static byte[]? Concurrency(IReadOnlyList<JobRun> jobs, DateTimeOffset origin)
    {
        var ran = jobs.Where(j => j.Started is not null).ToList();
        if (ran.Count == 0) return null;
        var end = ran.Max(j => j.Ended ?? j.Started!.Value);
        var plot = NewPlot("Jobs running at once", $"minutes since {origin:yyyy-MM-dd HH:mm:ss} UTC", "jobs");
        foreach (var g in ran.GroupBy(j => j.Ppid).OrderBy(g => g.Key))
        {
            // +1 at each start, −1 at each end: a step function through the sorted events.
            var events = g.SelectMany(j => new[] { (T: Minutes(j.Started!.Value, origin), D: +1), (T: Minutes(j.Ended ?? end, origin), D: -1) })
                .OrderBy(e => e.T).ThenBy(e => e.D).ToList();
            var xs = new List<double> { events[0].T };
            var ys = new List<double> { 0 };
            var running = 0;
            foreach (var (t, d) in events)
            {
                xs.Add(t); ys.Add(running);
                running += d;
                xs.Add(t); ys.Add(running);
            }
            var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray(), Color.FromHex(PipelineColor(g.Key)));
            line.LineWidth = 2;
            line.LegendText = $"ppid {g.Key} {PipelineIds.Describe(g.Key)}";
        }
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, Math.Max(1, plot.Axes.GetLimits().Top));
        plot.ShowLegend(Alignment.UpperRight);
        return Png(plot, Width, Height);
    }

    /// <summary>Distribution of job wall times per pipeline.</summary>
    public static byte[]? Durations(IReadOnlyList<JobRun> jobs)
    {
        var timed = jobs.Where(j => j.ElapsedSeconds is > 0).ToList();
        if (timed.Count == 0) return null;
        var plot = NewPlot("Job wall time", "seconds", "jobs");
        var max = timed.Max(j => j.ElapsedSeconds!.Value);
        foreach (var g in timed.GroupBy(j => j.Ppid).OrderBy(g => g.Key))
        {
            var histogram = ScottPlot.Statistics.Histogram.WithBinCount(Math.Clamp(timed.Count / 4, 10, 60), 0, max * 1.0001);
            histogram.AddRange(g.Select(j => j.ElapsedSeconds!.Value));
            var color = Color.FromHex(PipelineColor(g.Key)).WithAlpha(0.6);
            plot.Add.Histogram(histogram, color);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"ppid {g.Key}", FillColor = color });
        }
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Alignment.UpperRight);
        return Png(plot, Width / 2 - 10, Height);
    }

    /// <summary>Completeness against injected magnitude per filter (fakes solid, the simulator's transients dashed), Obiwan-style.</summary>
    public static byte[]? Completeness(IReadOnlyList<RecoverySummary> recovery, IReadOnlyList<RecoveryBin> bins) =>
        PerFilterCurves(recovery, bins, "Completeness against magnitude", "completeness", b => b.Completeness, fixedY: (0, 1.05), zeroLine: false);

    /// <summary>Median flux bias of the found sources against injected magnitude per filter.</summary>
    public static byte[]? FluxBias(IReadOnlyList<RecoverySummary> recovery, IReadOnlyList<RecoveryBin> bins) =>
        PerFilterCurves(recovery, bins, "Flux bias against magnitude", "median (measured − injected) / injected", b => b.FluxBias, fixedY: null, zeroLine: true);

    private static byte[]? PerFilterCurves(IReadOnlyList<RecoverySummary> recovery, IReadOnlyList<RecoveryBin> bins, string title, string yLabel,
        Func<RecoveryBin, double?> value, (double Low, double High)? fixedY, bool zeroLine)
    {
        var curves = bins.Where(b => value(b) is double v && double.IsFinite(v)).GroupBy(b => (b.Fid, b.Kind)).OrderBy(g => g.Key.Fid).ThenBy(g => g.Key.Kind).ToList();
        if (curves.Count == 0) return null;
        var names = recovery.GroupBy(r => r.Fid).ToDictionary(g => g.Key, g => g.First().Filter);
        var fids = curves.Select(c => c.Key.Fid).Distinct().Order().ToList();
        var plot = NewPlot(title, "injected magnitude (AB)", yLabel);
        foreach (var c in curves)
        {
            var points = c.OrderBy(b => b.MagLow).ToList();
            var line = plot.Add.Scatter(points.Select(b => 0.5 * (b.MagLow + b.MagHigh)).ToArray(), points.Select(b => value(b)!.Value).ToArray(),
                Color.FromHex(FilterColors[fids.IndexOf(c.Key.Fid) % FilterColors.Length]));
            line.LineWidth = 2;
            line.MarkerSize = 5;
            if (c.Key.Kind != "fake") line.LinePattern = LinePattern.Dashed;
            line.LegendText = $"{names.GetValueOrDefault(c.Key.Fid, $"fid {c.Key.Fid}")} {(c.Key.Kind == "fake" ? "fakes" : "truth transients")}";
        }
        if (zeroLine) plot.Add.HorizontalLine(0, 1, Colors.Gray, LinePattern.Dotted);
        if (fixedY is { } y) plot.Axes.SetLimitsY(y.Low, y.High);
        plot.ShowLegend(Alignment.LowerLeft);
        return Png(plot, Width / 2 - 10, Height);
    }

    /// <summary>Each image's 50 % completeness magnitude at its position on the sky (RA increasing to the left), colour-coded.</summary>
    public static byte[]? Mag50OnSky(IReadOnlyList<ImageQuality> images)
    {
        var points = images.Where(i => i.Mag50 is double m && double.IsFinite(m) && i.Ra is not null && i.Dec is not null).ToList();
        if (points.Count == 0) return null;
        var plot = NewPlot("m50 of each image on the sky", "RA (deg)", "Dec (deg)");
        var (low, high) = (points.Min(i => i.Mag50!.Value), points.Max(i => i.Mag50!.Value));
        if (high - low < 0.1) (low, high) = (low - 0.05, high + 0.05);
        var colormap = new ScottPlot.Colormaps.Viridis();
        const int Levels = 16;
        // RA unwrapped around the images' circular mean, so a night across RA 0/360 is one patch.
        var centre = CircularMeanDeg(points.Select(i => i.Ra!.Value));
        foreach (var level in points.GroupBy(i => Math.Clamp((int)((i.Mag50!.Value - low) / (high - low) * Levels), 0, Levels - 1)))
        {
            var xs = level.Select(i => centre + Wrap180(i.Ra!.Value - centre)).ToArray();
            var ys = level.Select(i => i.Dec!.Value).ToArray();
            plot.Add.Markers(xs, ys, MarkerShape.FilledCircle, points.Count > 2000 ? 4 : 8, colormap.GetColor((level.Key + 0.5) / Levels));
        }
        plot.Axes.AutoScale();
        var limits = plot.Axes.GetLimits();
        plot.Axes.SetLimitsX(limits.Right, limits.Left); // east to the left
        plot.Add.ColorBar(new ColorAxis(colormap, new ScottPlot.Range(low, high))).Label = "m50 (AB)";
        return Png(plot, Width / 2 - 10, Height + 40);
    }

    /// <summary>Unexplained positive detections per deg² of each image (fakes and known objects excluded), per filter.</summary>
    public static byte[]? FalsePositives(IReadOnlyList<ImageQuality> images)
    {
        var rated = images.Where(i => i.UnexplainedPerDeg2 is double v && double.IsFinite(v)).ToList();
        if (rated.Count == 0) return null;
        var plot = NewPlot("Unexplained detections per image", "unexplained positive detections per deg²", "images");
        var max = Math.Max(1, rated.Max(i => i.UnexplainedPerDeg2!.Value));
        var filters = rated.Select(i => i.Filter).Distinct().Order(StringComparer.Ordinal).ToList();
        foreach (var f in filters)
        {
            var histogram = ScottPlot.Statistics.Histogram.WithBinCount(Math.Clamp(rated.Count / 4, 10, 60), 0, max * 1.0001);
            histogram.AddRange(rated.Where(i => i.Filter == f).Select(i => i.UnexplainedPerDeg2!.Value));
            var color = Color.FromHex(FilterColors[filters.IndexOf(f) % FilterColors.Length]).WithAlpha(0.6);
            plot.Add.Histogram(histogram, color);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = f, FillColor = color });
        }
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Alignment.UpperRight);
        return Png(plot, Width / 2 - 10, Height + 40);
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title, size: 15);
        plot.XLabel(xLabel, size: 13);
        if (yLabel.Length > 0) plot.YLabel(yLabel, size: 13);
        plot.Axes.Title.Label.Bold = false;
        plot.Axes.Bottom.Label.Bold = false;
        plot.Axes.Left.Label.Bold = false;
        return plot;
    }

    private static byte[] Png(Plot plot, int width, int height) => plot.GetImageBytes(width, height, ImageFormat.Png);

    private static double Minutes(DateTimeOffset t, DateTimeOffset origin) => (t - origin).TotalMinutes;

    private static double Wrap180(double deg) => ((deg % 360) + 540) % 360 - 180;

    private static double CircularMeanDeg(IEnumerable<double> degrees)
    {
        double s = 0, c = 0;
        foreach (var d in degrees) { s += Math.Sin(d * Math.PI / 180); c += Math.Cos(d * Math.PI / 180); }
        return (Math.Atan2(s, c) * 180 / Math.PI + 360) % 360;
    }

    /// <summary>A colour scale for a colour bar over plottables that are coloured by hand (one Markers per level).</summary>
    private sealed class ColorAxis(IColormap colormap, ScottPlot.Range range) : IHasColorAxis
    {
        public IColormap Colormap { get; set; } = colormap;
        public ScottPlot.Range GetRange() => range;
    }
}
