using System.Text;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;
using Rapid.Functions.Report.Data;
using Rapid.Functions.Report.Plots;
using Rapid.Pipeline.Jobs;
using static Rapid.Functions.Report.Html.HtmlText;

namespace Rapid.Functions.Report.Html;

/// <summary>
/// Renders a <see cref="NightReportModel"/> as one self-contained HTML page: styles, script, plots (PNG data URIs) and
/// the long tables (compressed JSON blocks) are all inside it, so it opens from a bucket, a mail or a laptop alike.
/// One method per section, in the order the page shows them.
/// </summary>
public sealed class NightReportPage(NightReportModel model, ReportLinks links, ObjectKeys keys, NightReportOptions options)
{
    private readonly StringBuilder _html = new(1 << 16);
    private int _dataBlocks;

    public static string Render(NightReportModel model, ReportLinks links, ObjectKeys keys, NightReportOptions options) =>
        new NightReportPage(model, links, keys, options).Render();

    private string Render()
    {
        _html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>Rapid night report ").Append(model.ProcDate).Append(" — ").Append(E(model.Verdict.Word)).Append("</title>\n")
            .Append("<style>\n").Append(Resource("report.css")).Append("</style>\n</head>\n<body>\n");
        Header();
        _html.Append("<nav><a href=\"#glance\">At a glance</a><a href=\"#timeline\">Timeline</a><a href=\"#failures\">Failures</a>")
            .Append("<a href=\"#record\">Attempts and QC</a><a href=\"#quality\">Image quality</a><a href=\"#recovery\">Injection-recovery</a><a href=\"#cutouts\">Cutouts</a>")
            .Append("<a href=\"#products\">Products</a></nav>\n<main>\n");
        Glance();
        Timeline();
        Failures();
        Record();
        Quality();
        Recovery();
        Cutouts();
        Products();
        _html.Append("<footer class=\"note\"><p>Made by Rapid ").Append(E(SoftwareVersion.Current)).Append(" from the ops database")
            .Append(" (tables jobs, jobproducts, jobattempts, diffimages, diffimmeta, l2files, recoveryjobs, recoveryfigures, nightrecovery*; view qclog) and the object store")
            .Append(" (logs, products). Made again with <code>rapid report --procdate ").Append(model.ProcDate).Append("</code>.</p></footer>\n");
        _html.Append("</main>\n<script>\n").Append(Resource("report.js")).Append("</script>\n</body>\n</html>\n");
        return _html.ToString();
    }

    private void Header()
    {
        var v = model.Verdict;
        _html.Append("<header class=\"verdict verdict-").Append(v.Level.ToString().ToLowerInvariant()).Append("\" id=\"verdict\" data-verdict=\"")
            .Append(v.Level).Append("\">\n<h1>Night report — processing date ").Append(model.ProcDate)
            .Append(" <span class=\"word\">").Append(E(v.Word)).Append("</span></h1>\n<p class=\"headline\">").Append(E(Capitalised(v.Headline))).Append("</p>\n<ul>");
        foreach (var d in v.Details) _html.Append("<li>").Append(E(d)).Append("</li>");
        _html.Append("</ul>\n<p class=\"meta\">Jobs ran from ").Append(Time(model.Glance.FirstStart)).Append(" to ").Append(Time(model.Glance.LastEnd))
            .Append(". Report made ").Append(Time(model.GeneratedAt)).Append(".</p>\n</header>\n");
    }

    private void Glance()
    {
        var g = model.Glance;
        Section("glance", "The night at a glance");
        _html.Append("<div class=\"cards\">");
        Card(N(g.ScienceImages), "science images");
        Card(N(g.DifferenceImages), "difference images");
        Card(N(g.ReferenceImages), "reference images");
        Card(N(g.SourcesFound), "sources found");
        Card(N(g.TotalJobs), "jobs");
        Card($"{N(g.ProductFiles)} · {Bytes(g.ProductBytes)}", "product files");
        Card(g.Span is { } span ? Duration(span) : "–", "first job start to last job end");
        Card(F(g.JobHours, "0.00"), "job-hours (sum of wall times)");
        Card(g.CpuHours is double cpu ? F(cpu, "0.00") : "–", "CPU-hours (measured by the jobs)");
        Card(g.VcpuHours is double vcpu ? F(vcpu, "0.00") : "–",
            g.VcpuHours is null ? "vCPU-hours (job definitions' vCPUs not configured)" : "vCPU-hours reserved (wall × job definition vCPUs)");
        if (g.PeakMemoryBytes is long peak) Card(Bytes(peak), "largest peak memory of a job");
        _html.Append("</div>\n");

        var outcomes = Enum.GetValues<JobOutcomeClass>();
        _html.Append("<h3>Jobs by pipeline and outcome</h3>\n<table class=\"sortable\" id=\"jobs-by-outcome\"><thead><tr><th>pipeline</th>");
        foreach (var o in outcomes) _html.Append("<th class=\"n\">").Append(o.Title()).Append("</th>");
        _html.Append("<th class=\"n\">total</th></tr></thead><tbody>");
        foreach (var p in g.Pipelines)
        {
            _html.Append("<tr><td><span class=\"swatch\" style=\"background:").Append(ReportPlots.PipelineColor(p.Ppid)).Append("\"></span>ppid ")
                .Append(p.Ppid).Append(' ').Append(E(PipelineIds.Describe(p.Ppid))).Append("</td>");
            foreach (var o in outcomes) NumberCell(p[o]);
            NumberCell(p.Total);
            _html.Append("</tr>");
        }
        _html.Append("</tbody></table>\n");
        if (g.Warnings.Count > 0)
        {
            _html.Append("<h3>Warnings by kind</h3>\n<table class=\"sortable\" id=\"warnings\"><thead><tr><th>pipeline</th><th>kind</th><th class=\"n\">jobs</th></tr></thead><tbody>");
            foreach (var w in g.Warnings)
            {
                _html.Append("<tr><td>ppid ").Append(w.Ppid).Append("</td><td>").Append(E(w.Kind)).Append("</td>");
                NumberCell(w.Jobs);
                _html.Append("</tr>");
            }
            _html.Append("</tbody></table>\n");
        }
        _html.Append("</section>\n");
    }

    private void Timeline()
    {
        Section("timeline", "Timeline of the stages and jobs");
        var ran = model.Jobs.Where(j => j.Started is not null).ToList();
        if (ran.Count == 0)
        {
            _html.Append("<p>No job started on this processing date.</p></section>\n");
            return;
        }
        var origin = ran.Min(j => j.Started!.Value);
        _html.Append("<table class=\"sortable\" id=\"stages\"><thead><tr><th>stage (pipeline)</th><th class=\"n\">jobs</th><th>first start</th><th>last end</th>")
            .Append("<th class=\"n\">span</th><th class=\"n\">median job (s)</th><th class=\"n\">90th percentile (s)</th><th class=\"n\">longest (s)</th><th class=\"n\">job-hours</th></tr></thead><tbody>");
        foreach (var stage in model.Jobs.GroupBy(j => j.Ppid).OrderBy(s => s.Min(j => j.Started ?? DateTimeOffset.MaxValue)))
        {
            var times = stage.Where(j => j.ElapsedSeconds is not null).Select(j => j.ElapsedSeconds!.Value).Order().ToArray();
            var first = stage.Min(j => j.Started);
            var last = stage.Max(j => j.Ended);
            _html.Append("<tr><td><span class=\"swatch\" style=\"background:").Append(ReportPlots.PipelineColor(stage.Key)).Append("\"></span>ppid ")
                .Append(stage.Key).Append(' ').Append(E(PipelineIds.Describe(stage.Key))).Append("</td>");
            NumberCell(stage.Count());
            _html.Append("<td>").Append(Time(first)).Append("</td><td>").Append(Time(last)).Append("</td>");
            var span = first is { } a && last is { } b ? (b - a).TotalSeconds : (double?)null;
            _html.Append("<td class=\"n\" data-v=\"").Append(V(span)).Append("\">").Append(span is double s ? Duration(TimeSpan.FromSeconds(s)) : "–").Append("</td>");
            NumberCell(Quantile(times, 0.5), "0.0");
            NumberCell(Quantile(times, 0.9), "0.0");
            NumberCell(times.Length > 0 ? times[^1] : null, "0.0");
            NumberCell(times.Sum() / 3600, "0.00");
            _html.Append("</tr>");
        }
        _html.Append("</tbody></table>\n");

        if (ReportPlots.JobBars(model.Jobs, origin) is { } bars)
            Figure(bars, "timeline-jobs", "Each job from its start to its end, grouped by pipeline (failed, lost and open jobs in red).");
        else
            _html.Append("<p class=\"note\">").Append(N(ran.Count)).Append(" jobs ran: more than ").Append(ReportPlots.MaxJobBars)
                .Append(" to draw one bar each; the plot below shows how many ran at once.</p>\n");
        _html.Append("<div class=\"plots\">");
        if (ReportPlots.Concurrency(model.Jobs, origin) is { } running)
            Figure(running, "timeline-running", "Jobs of each pipeline running at once: how well the night used its slots.");
        if (ReportPlots.Durations(model.Jobs) is { } durations)
            Figure(durations, "timeline-durations", "Wall time of the jobs, per pipeline.");
        _html.Append("</div>\n");

        var slowest = ran.Where(j => j.ElapsedSeconds is not null).OrderByDescending(j => j.ElapsedSeconds).Take(10).ToList();
        _html.Append("<h3>The slowest jobs</h3>\n<table class=\"sortable\" id=\"slowest\"><thead><tr><th class=\"n\">jid</th><th>pipeline</th><th>subject</th>")
            .Append("<th>outcome</th><th>started</th><th class=\"n\">wall (s)</th></tr></thead><tbody>");
        foreach (var j in slowest)
        {
            _html.Append("<tr>"); NumberCell(j.Jid);
            _html.Append("<td>ppid ").Append(j.Ppid).Append("</td><td>").Append(E(j.Subject)).Append("</td><td>").Append(E(j.Outcome.Title()))
                .Append("</td><td>").Append(Time(j.Started)).Append("</td>");
            NumberCell(j.ElapsedSeconds, "0.0");
            _html.Append("</tr>");
        }
        _html.Append("</tbody></table>\n</section>\n");
    }

    private void Failures()
    {
        Section("failures", "Failures, grouped by reason");
        var faults = model.Jobs.Count(j => j.Outcome.IsFault());
        if (faults == 0)
        {
            _html.Append("<p id=\"no-failures\">No job failed, was lost or was left open.</p></section>\n");
            return;
        }
        var groups = FailureReasons.Group(model.Jobs).Count;
        _html.Append("<p>").Append(N(faults)).Append(" jobs in ").Append(N(groups)).Append(" groups")
            .Append(groups > model.Failures.Count ? $" (the {model.Failures.Count} largest shown)" : "").Append(". Each group shows its first job's log.</p>\n");
        var first = true;
        foreach (var g in model.Failures)
        {
            _html.Append("<details class=\"failure\"").Append(first ? " open" : "").Append("><summary><b>").Append(N(g.Jobs.Count)).Append(" × ppid ").Append(g.Ppid)
                .Append(' ').Append(E(PipelineIds.Describe(g.Ppid))).Append(", ").Append(E(g.Outcome.Title()))
                .Append(g.ExitCode is { } c ? $", exit {c} ({E(ExitCodes.Describe(c))})" : "").Append("</b>: ").Append(E(g.Pattern)).Append("</summary>\n");
            first = false;
            _html.Append("<table><thead><tr><th class=\"n\">jid</th><th>subject</th><th>reason</th><th>log</th></tr></thead><tbody>");
            const int MaxListed = 25;
            foreach (var j in g.Jobs.Take(MaxListed))
            {
                _html.Append("<tr>"); NumberCell(j.Jid);
                _html.Append("<td>").Append(E(j.Subject)).Append("</td><td>").Append(E(j.Reason ?? "")).Append("</td><td><a href=\"")
                    .Append(E(links.Href(keys.Log(model.ProcDate, j.Jid)))).Append("\">log</a></td></tr>");
            }
            _html.Append("</tbody></table>");
            if (g.Jobs.Count > MaxListed) _html.Append("<p class=\"note\">… and ").Append(N(g.Jobs.Count - MaxListed)).Append(" more jobs: ")
                .Append(E(string.Join(", ", g.Jobs.Skip(MaxListed).Take(200).Select(j => j.Jid)))).Append(g.Jobs.Count > MaxListed + 200 ? ", …" : "").Append("</p>");
            if (g.Log is { } log)
            {
                _html.Append("<p class=\"note\">Log of job ").Append(log.Jid).Append(" (<code>").Append(E(log.Location.ToString())).Append("</code>)");
                if (log.Error is not null) _html.Append(": ").Append(E(log.Error)).Append(".</p>");
                else
                {
                    _html.Append(log.Truncated ? $", its last {log.Lines.Count} lines" : "").Append(":</p><pre>");
                    foreach (var line in log.Lines) _html.Append(E(line)).Append('\n');
                    _html.Append("</pre>");
                }
            }
            _html.Append("</details>\n");
        }
        _html.Append("</section>\n");
    }

    /// <summary>The operations record's view of the night: attempts and resubmissions per pipeline, and the QC log patterns that matched.</summary>
    private void Record()
    {
        Section("record", "Attempts and QC");
        if (model.Attempts.Count == 0)
            _html.Append("<p id=\"no-attempts\">The operations record holds no attempt for this processing date.</p>\n");
        else
        {
            _html.Append("<table class=\"sortable\" id=\"attempts\"><thead><tr><th>pipeline</th><th class=\"n\">jobs</th><th class=\"n\">attempts</th>")
                .Append("<th class=\"n\">resubmitted jobs</th><th class=\"n\">failed attempts</th><th class=\"n\">median queue wait (s)</th>")
                .Append("<th class=\"n\">wall hours</th></tr></thead><tbody>");
            foreach (var a in model.Attempts)
            {
                _html.Append("<tr><td>ppid ").Append(a.Ppid).Append(' ').Append(E(PipelineIds.Describe(a.Ppid))).Append("</td>");
                NumberCell(a.Jobs); NumberCell(a.Attempts); NumberCell(a.Resubmitted); NumberCell(a.Failed);
                NumberCell(a.MedianQueueSeconds, "0.0"); NumberCell(a.WallSeconds / 3600, "0.00");
                _html.Append("</tr>");
            }
            _html.Append("</tbody></table>\n<p class=\"note\">Every attempt of every job is in the view <code>attempts</code>; ")
                .Append("<code>rapid runs --procdate ").Append(model.ProcDate).Append("</code> lists the runs.</p>\n");
        }
        _html.Append("<h3>QC log patterns that matched</h3>\n");
        if (model.Qc.Count == 0)
        {
            _html.Append("<p id=\"no-qc\">No QC pattern matched a job log of this processing date.</p></section>\n");
            return;
        }
        _html.Append("<table class=\"sortable\" id=\"qc\"><thead><tr><th>pattern</th><th>severity</th><th class=\"n\">matches</th><th class=\"n\">jobs</th>")
            .Append("<th>first match</th></tr></thead><tbody>");
        foreach (var q in model.Qc)
        {
            _html.Append("<tr class=\"").Append(q.Severity == "error" ? "bad" : q.Severity == "warning" ? "suspect" : "").Append("\"><td title=\"")
                .Append(E(q.Description ?? "")).Append("\">").Append(E(q.Pattern)).Append("</td><td>").Append(E(q.Severity)).Append("</td>");
            NumberCell(q.Matches); NumberCell(q.Jobs);
            _html.Append("<td>jid ").Append(q.FirstJid).Append(": <code>").Append(E(q.FirstText)).Append("</code>");
            if (q.FirstLog is { } log) _html.Append(" (<a href=\"").Append(E(links.Href(log))).Append("\">log</a>)");
            _html.Append("</td></tr>");
        }
        _html.Append("</tbody></table>\n<p class=\"note\"><code>rapid qc --procdate ").Append(model.ProcDate)
            .Append("</code> lists every matching line.</p>\n</section>\n");
    }

    private void Quality()
    {
        Section("quality", "Image quality");
        var images = model.Images;
        if (images.Count == 0)
        {
            _html.Append("<p>No science job ran on this processing date.</p></section>\n");
            return;
        }
        _html.Append("<p>One row per science image. Verdicts: <span class=\"pill bad\">bad</span> the job failed, or the flux scale is more than ")
            .Append(Percent(2 * options.FluxScaleTolerance, "0")).Append(" from the zero points' prediction, or the astrometric rms of the matched stars exceeds ")
            .Append(F(2 * options.MaxAstrometricRmsPixels, "0.##")).Append(" px; <span class=\"pill suspect\">suspect</span> the job ended with warnings, or half those limits are passed, or a figure is an outlier of its filter's images (further than ")
            .Append(F(options.OutlierSigma, "0.#")).Append(" robust σ from their median on the worse side; such cells are marked). The flux scale predicted from the zero points is 10<sup>−0.4 (ZP<sub>ref</sub> − ZPTMAG)</sup>.</p>\n");

        _html.Append("<h3>Per filter</h3>\n<table class=\"sortable\" id=\"quality-filters\"><thead><tr><th>filter</th><th class=\"n\">images</th><th class=\"n\">good</th>")
            .Append("<th class=\"n\">suspect</th><th class=\"n\">bad</th><th class=\"n\">not rated</th><th class=\"n\">median flux scale / prediction</th>")
            .Append("<th class=\"n\">median FWHM (px)</th><th class=\"n\">median astrometric rms (px)</th><th class=\"n\">fakes found</th><th class=\"n\">median m50</th>")
            .Append("<th class=\"n\">median unexplained / deg²</th></tr></thead><tbody>");
        foreach (var f in images.GroupBy(i => i.Filter).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            _html.Append("<tr><td>").Append(E(f.Key)).Append("</td>");
            NumberCell(f.Count());
            foreach (var v in new[] { ImageVerdict.Good, ImageVerdict.Suspect, ImageVerdict.Bad, ImageVerdict.NotRated }) NumberCell(f.Count(i => i.Verdict == v));
            NumberCell(MedianOf(f, i => i.FluxScaleRatio), "0.000");
            NumberCell(MedianOf(f, i => i.FwhmScience), "0.00");
            NumberCell(MedianOf(f, i => i.AstrometricRms), "0.000");
            var (injected, found) = (f.Sum(i => i.FakesInjected ?? 0), f.Sum(i => i.FakesFound ?? 0));
            _html.Append("<td class=\"n\" data-v=\"").Append(V(injected > 0 ? found / (double)injected : null)).Append("\">")
                .Append(injected > 0 ? $"{N(found)} of {N(injected)} ({Percent(found / (double)injected)})" : "–").Append("</td>");
            NumberCell(MedianOf(f, i => i.Mag50), "0.00");
            NumberCell(MedianOf(f, i => i.UnexplainedPerDeg2), "0");
            _html.Append("</tr>");
        }
        _html.Append("</tbody></table>\n<h3>Per image</h3>\n");

        // Column indices of the figures that can be outliers, for the flags column.
        var columns = new List<DataColumn>
        {
            DataColumn.Number("jid"), DataColumn.Number("rid"), new("filter"), DataColumn.Number("field"), DataColumn.Number("SCA"),
            new("verdict"), DataColumn.Number("exit"),
            DataColumn.Number("flux scale", 4, "reference to science, as the job matched it"),
            DataColumn.Number("predicted", 4, "from the zero points"),
            DataColumn.Number("ratio", 3, "flux scale / predicted"),
            DataColumn.Number("FWHM sci (px)", 2), DataColumn.Number("FWHM ref (px)", 2),
            DataColumn.Number("astrom. rms (px)", 3, "√(dx_rms² + dy_rms²) of the matched stars"),
            DataColumn.Number("sources"), DataColumn.Number("fakes found (%)", 1), DataColumn.Number("fakes"),
            DataColumn.Number("m50", 2, "magnitude at 50 % completeness of the fakes"),
            DataColumn.Number("unexpl. / deg²", 0, "positive detections matching no fake or known object, per deg²"),
            new("why", Align: "w"),
            DataColumn.HiddenColumn("class"), DataColumn.HiddenColumn("flags"),
        };
        var figureColumn = new Dictionary<QualityFigure, int>
        {
            [QualityFigure.FluxScaleRatio] = 9, [QualityFigure.FwhmScience] = 10, [QualityFigure.AstrometricRms] = 12,
            [QualityFigure.FakeCompleteness] = 14, [QualityFigure.Mag50] = 16, [QualityFigure.UnexplainedPerDeg2] = 17,
        };
        var rows = images.Select(i => new object?[]
        {
            i.Jid, i.Rid, i.Filter, i.Field, i.Sca, VerdictText(i.Verdict), i.ExitCode,
            DataTable.Num(i.FluxScale), DataTable.Num(i.PredictedFluxScale), DataTable.Num(i.FluxScaleRatio),
            DataTable.Num(i.FwhmScience), DataTable.Num(i.FwhmReference), DataTable.Num(i.AstrometricRms), i.Sources,
            DataTable.Num(i.FakeCompleteness * 100), i.FakesInjected is > 0 ? $"{i.FakesFound} of {i.FakesInjected}" : null,
            DataTable.Num(i.Mag50), DataTable.Num(i.UnexplainedPerDeg2),
            string.Join("; ", i.VerdictReasons),
            i.Verdict is ImageVerdict.Bad ? "bad" : i.Verdict is ImageVerdict.Suspect ? "suspect" : null,
            i.Outliers.Select(o => figureColumn[o]).Order().ToArray(),
        }).ToList();
        DataBlock("images", new DataTable(columns, rows, options.RowsPerPage, ClassColumn: columns.Count - 2, FlagsColumn: columns.Count - 1));
        _html.Append("</section>\n");
    }

    private void Recovery()
    {
        Section("recovery", "Injection-recovery");
        if (model.Recovery.Count == 0)
            _html.Append("<p>No night recovery figures for this processing date (no fakes injected, or the night recovery job did not run).</p>\n");
        else
        {
            _html.Append("<table class=\"sortable\" id=\"recovery-figures\"><thead><tr><th>filter</th><th>kind</th><th class=\"n\">images</th><th class=\"n\">injected</th>")
                .Append("<th class=\"n\">found</th><th class=\"n\">completeness</th><th class=\"n\">m50</th><th class=\"n\">m90</th><th class=\"n\">flux bias</th>")
                .Append("<th class=\"n\">unexplained / deg²</th></tr></thead><tbody>");
            foreach (var r in model.Recovery)
            {
                _html.Append("<tr><td>").Append(E(r.Filter)).Append("</td><td>").Append(r.Kind == "fake" ? "fakes" : "truth transients").Append("</td>");
                NumberCell(r.Images); NumberCell(r.Injected); NumberCell(r.Found);
                _html.Append("<td class=\"n\" data-v=\"").Append(V(r.Completeness)).Append("\">").Append(Percent(r.Completeness)).Append("</td>");
                NumberCell(r.Mag50, "0.00"); NumberCell(r.Mag90, "0.00");
                _html.Append("<td class=\"n\" data-v=\"").Append(V(r.FluxBias)).Append("\">").Append(Percent(r.FluxBias, "+0.0;-0.0")).Append("</td>");
                NumberCell(r.FalsePositivesPerDeg2, "0");
                _html.Append("</tr>");
            }
            _html.Append("</tbody></table>\n");
        }
        _html.Append("<div class=\"plots\">");
        var any = false;
        if (ReportPlots.Completeness(model.Recovery, model.RecoveryBins) is { } c) { any = true; Figure(c, "plot-completeness", "Fraction of the injected sources found, per 0.25 mag bin."); }
        if (ReportPlots.FluxBias(model.Recovery, model.RecoveryBins) is { } b) { any = true; Figure(b, "plot-fluxbias", "Median relative flux error of the found sources, per bin."); }
        if (ReportPlots.Mag50OnSky(model.Images) is { } m) { any = true; Figure(m, "plot-m50-sky", "Each image's m50 at its centre: shallow images and patches stand out."); }
        if (ReportPlots.FalsePositives(model.Images) is { } fp) { any = true; Figure(fp, "plot-false-positives", "Unexplained positive detections per deg² of each image (on real data this includes real transients)."); }
        _html.Append("</div>\n");
        if (!any) _html.Append("<p class=\"note\">Nothing to plot: no image recorded injection-recovery figures.</p>\n");
        _html.Append("</section>\n");
    }

    private void Cutouts()
    {
        Section("cutouts", "Cutouts");
        foreach (var note in model.CutoutNotes) _html.Append("<p class=\"note\">").Append(E(note)).Append("</p>\n");
        if (model.Cutouts.Count == 0)
        {
            _html.Append("<p>No cutouts: no difference image with detections or missed fakes was readable.</p></section>\n");
            return;
        }
        foreach (var kind in model.Cutouts.GroupBy(c => c.Kind))
        {
            _html.Append("<h3>").Append(kind.Key == CutoutKinds.Detection ? "The brightest detections" : "The brightest missed fakes").Append("</h3>\n<div class=\"cutouts\">");
            foreach (var c in kind)
            {
                _html.Append("<div class=\"cutout\" data-kind=\"").Append(E(c.Kind)).Append("\"><div class=\"stamps\">");
                foreach (var p in c.Panels)
                {
                    _html.Append("<div class=\"stamp\">");
                    if (p.Png is { } png) _html.Append("<img alt=\"").Append(E(p.Title)).Append("\" src=\"").Append(PngDataUri(png)).Append("\">");
                    else _html.Append("<div class=\"missing\" title=\"").Append(E(p.Note)).Append("\">not readable</div>");
                    _html.Append(E(p.Title)).Append("</div>");
                }
                _html.Append("</div><div class=\"caption\">jid ").Append(c.Jid).Append(", rid ").Append(c.Rid).Append(", ").Append(E(c.Filter))
                    .Append(", x ").Append(F(c.X + 1, "0.0")).Append(" y ").Append(F(c.Y + 1, "0.0"))
                    .Append(c.Ra is double ra && c.Dec is double dec ? $" (RA {F(ra, "0.00000")}, Dec {F(dec, "+0.00000;-0.00000")})" : "")
                    .Append("<br>").Append(E(c.Figure)).Append("</div></div>");
            }
            _html.Append("</div>\n");
        }
        _html.Append("<p class=\"note\">Stamps of ").Append(2 * options.CutoutHalfWidth + 1).Append(" px (pixel positions 1-based, FITS convention); science and reference: ")
            .Append("linear 1st–99.5th percentile of the stamp; difference: symmetric about zero; S_corr: −5 to +10 σ.</p>\n</section>\n");
    }

    private void Products()
    {
        Section("products", "Products");
        if (model.Products.Count == 0)
        {
            _html.Append("<p>No product was registered for this processing date.</p></section>\n");
            return;
        }
        _html.Append("<table class=\"sortable\" id=\"products-by-role\"><thead><tr><th>role</th><th class=\"n\">files</th><th class=\"n\">bytes</th></tr></thead><tbody>");
        foreach (var r in model.Products.GroupBy(p => p.Role).OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var bytes = r.Sum(p => p.SizeBytes);
            _html.Append("<tr><td>").Append(E(r.Key)).Append("</td>"); NumberCell(r.Count());
            _html.Append("<td class=\"n\" data-v=\"").Append(bytes).Append("\">").Append(Bytes(bytes)).Append("</td></tr>");
        }
        _html.Append("</tbody></table>\n<p class=\"note\">Links are relative to this page: they work in embedded mode's store and in a copy of the buckets ")
            .Append("(one directory per bucket).</p>\n");
        var jobs = model.Jobs.ToDictionary(j => j.Jid);
        var columns = new List<DataColumn>
        {
            DataColumn.Number("jid"), new("pipeline"), new("subject"), DataColumn.Number("files"), DataColumn.Number("MiB", 2), new("products"),
        };
        var rows = model.Products.GroupBy(p => p.Jid).Select(g => new object?[]
        {
            g.Key, $"ppid {g.First().Ppid}", jobs.TryGetValue(g.Key, out var j) ? j.Subject : null, g.Count(),
            g.Sum(p => p.SizeBytes) / (double)(1 << 20),
            g.Select(p => DataTable.Link(p.Role, links.Href(p.File))).ToArray(),
        }).ToList();
        DataBlock("products", new DataTable(columns, rows, options.RowsPerPage));
        _html.Append("</section>\n");
    }

    private void Section(string id, string title) => _html.Append("<section id=\"").Append(id).Append("\">\n<h2>").Append(E(title)).Append("</h2>\n");

    private void Card(string value, string key) =>
        _html.Append("<div class=\"card\"><div class=\"v\">").Append(E(value)).Append("</div><div class=\"k\">").Append(E(key)).Append("</div></div>");

    private void Figure(byte[] png, string id, string caption) =>
        _html.Append("<figure id=\"").Append(id).Append("\"><img alt=\"").Append(E(caption)).Append("\" src=\"").Append(PngDataUri(png))
            .Append("\"><figcaption>").Append(E(caption)).Append("</figcaption></figure>\n");

    private void DataBlock(string name, DataTable table)
    {
        var id = $"data-{name}-{_dataBlocks++}";
        _html.Append("<div class=\"datatable\" id=\"table-").Append(name).Append("\" data-source=\"").Append(id).Append("\"><p class=\"note\">")
            .Append(N(table.Rows.Count)).Append(" rows (the table needs JavaScript).</p></div>\n<script type=\"application/octet-stream\" id=\"")
            .Append(id).Append("\">").Append(CompressedJson(table)).Append("</script>\n");
    }

    private void NumberCell(long value) => _html.Append("<td class=\"n\" data-v=\"").Append(value).Append("\">").Append(N(value)).Append("</td>");

    private void NumberCell(double? value, string format) =>
        _html.Append("<td class=\"n\" data-v=\"").Append(V(value)).Append("\">").Append(F(value, format)).Append("</td>");

    private static string VerdictText(ImageVerdict v) => v switch
    {
        ImageVerdict.Good => "good",
        ImageVerdict.Suspect => "suspect",
        ImageVerdict.Bad => "bad",
        _ => "not rated",
    };

    private static double? MedianOf(IEnumerable<ImageQuality> images, Func<ImageQuality, double?> value)
    {
        var values = images.Select(value).Where(v => v is double d && double.IsFinite(d)).Select(v => v!.Value).ToList();
        return values.Count == 0 ? null : ImageVerdicts.Median(values);
    }

    private static double? Quantile(double[] sorted, double q) => sorted.Length == 0 ? null : sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))];

    private static string Capitalised(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
