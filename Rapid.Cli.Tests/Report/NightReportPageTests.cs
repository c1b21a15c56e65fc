using Rapid.Cli.Bench;
using Rapid.Cli.Engine;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Report;
using Rapid.Functions.Report.Data;

namespace Rapid.Cli.Tests.Report;

/// <summary>The night report as a person meets it: written by a real night's Summarize stage, opened in headless Chromium.</summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class NightReportPageTests(EmbeddedDatabaseFixture fixture)
{
    [Fact]
    public async Task The_Summarize_stage_writes_a_self_contained_report_that_Chromium_draws_without_errors()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 6, fields: 2, seed: 21);
        var night = await survey.Workflow().Create().RunAsync(survey.LastNight("20280910"), SilentObserver.Instance);

        Assert.Null(night.ReportError);
        var published = night.Published!;
        Assert.Equal(new ObjectKeys(Buckets.Default).NightReport(ProcessingDate.Parse("20280910")).ToString(), published.Location);
        var file = survey.Home.OpenStore().PathOf(ObjectRef.Parse(published.Location));
        var html = await File.ReadAllTextAsync(file);
        Assert.DoesNotMatch(@"(src|href)=""(https?:)?//", html); // nothing from elsewhere: styles, script and plots are inside

        await using var browser = await ReportBrowser.LaunchAsync();
        var page = await browser.OpenAsync(file);
        Assert.Empty(page.Errors);
        Assert.Empty(page.ExternalRequests);

        var model = published.Model;
        Assert.Equal(model.Verdict.Level.ToString(), await page.EvalAsync<string>("document.getElementById('verdict').dataset.verdict"));
        Assert.True(model.Images.Count >= 2, $"{model.Images.Count} science images");
        Assert.Equal(model.Images.Count, (await page.RowsAsync("table-images")).Length);
        Assert.Equal(model.Glance.Pipelines.Count, await page.EvalAsync<int>("document.querySelectorAll('#jobs-by-outcome tbody tr').length"));
        Assert.Equal(model.Glance.Pipelines.Count, await page.EvalAsync<int>("document.querySelectorAll('#stages tbody tr').length"));

        // Every plot decoded: the timeline, how many ran at once, durations, completeness, flux bias, m50 on the sky, false positives.
        var plots = await page.EvalAsync<string[]>("[...document.querySelectorAll('figure')].filter(f => f.querySelector('img').complete && f.querySelector('img').naturalWidth > 100).map(f => f.id)");
        Assert.Superset(new HashSet<string> { "timeline-jobs", "timeline-running", "timeline-durations", "plot-completeness", "plot-fluxbias", "plot-m50-sky", "plot-false-positives" },
            plots.ToHashSet());

        // Cutouts of the brightest detections and missed fakes: four stamps each, all drawn.
        var cutouts = await page.EvalAsync<int[]>("[...document.querySelectorAll('.cutout')].map(c => c.querySelectorAll('img').length)");
        Assert.NotEmpty(cutouts);
        Assert.All(cutouts, n => Assert.Equal(4, n));
        Assert.Contains(model.Cutouts, c => c.Kind == CutoutKinds.Detection);
        // A missed fake says how close S_corr came to a detection where it was injected.
        Assert.All(model.Cutouts.Where(c => c.Kind == CutoutKinds.MissedFake), c => Assert.Matches(@"^injected mag \d+\.\d\d, not found, peak S_corr within 1 px -?\d+\.\d σ$", c.Figure));

        // Nothing wider than the window: wide tables scroll inside their own box.
        Assert.True(await page.EvalAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"),
            $"the page is {await page.EvalAsync<int>("document.documentElement.scrollWidth")} px wide in a 1280 px window");

        // The operations record: every pipeline's attempts, and a row per QC pattern that matched (or the sentence saying none did).
        Assert.Equal(model.Glance.Pipelines.Select(p => p.Ppid), model.Attempts.Select(a => a.Ppid));
        Assert.All(model.Attempts, a => Assert.True(a.Attempts >= a.Jobs && a.Jobs == model.Jobs.Count(j => j.Ppid == a.Ppid), $"{a}"));
        Assert.Equal(model.Attempts.Count, await page.EvalAsync<int>("document.querySelectorAll('#attempts tbody tr').length"));
        Assert.Equal(model.Qc.Count, await page.EvalAsync<int>("document.querySelectorAll('#qc tbody tr').length"));
        Assert.Equal(model.Qc.Count == 0, await page.EvalAsync<bool>("document.getElementById('no-qc') !== null"));

        // Product links lead to the files, relative to the page.
        var hrefs = await page.EvalAsync<string[]>("[...document.querySelectorAll('#table-products a')].map(a => a.href)");
        Assert.Equal(model.Products.Count, hrefs.Length);
        Assert.All(hrefs, h => Assert.True(File.Exists(new Uri(h).LocalPath), h));

        var (_, ink, colours) = await page.ScreenshotAsync();
        Assert.True(ink > 0.05, $"only {ink:P1} of the screenshot is not white");
        Assert.True(colours > 200, $"only {colours} colours in the screenshot");
    }

    [Fact]
    public async Task A_large_night_is_paged_sorted_and_filtered_and_its_failures_show_their_logs()
    {
        var procDate = ProcessingDate.Parse("20280911");
        await using var db = OpsDb.Create(await fixture.CreateDatabaseAsync());
        await new MigrationRunner(db).MigrateAsync();
        var root = Directory.CreateTempSubdirectory("rapid-report-store-").FullName;
        try
        {
            var store = new DirectoryObjectStore(root);
            var keys = new ObjectKeys(Buckets.Default);
            await SyntheticNight.CreateAsync(db, store, keys, procDate,
                new SyntheticNightSpec(Images: 1500, FailedFraction: 0.02, LostFraction: 0.01, OpenFraction: 0.004, OutlierFraction: 0.02));
            var path = Path.Combine(root, "night.html");
            var published = await new NightReports(db, store, keys, new NightReportOptions()).WriteFileAsync(procDate, path, root);
            var model = published.Model;
            Assert.Equal(NightVerdictLevel.Failures, model.Verdict.Level);

            await using var browser = await ReportBrowser.LaunchAsync();
            var page = await browser.OpenAsync(path);
            Assert.Empty(page.Errors);

            // Paged: 100 rows at a time.
            Assert.Equal("rows 1–100 of 1,500", await page.PagerTextAsync("table-images"));
            Assert.Equal(100, (await page.RowsAsync("table-images")).Length);
            await page.ClickAsync("#table-images .pager button:last-child");
            Assert.Equal("rows 101–200 of 1,500", await page.PagerTextAsync("table-images"));
            var jids = model.Images.Select(i => i.Jid).Order().ToList();
            Assert.Equal(jids[100].ToString(), (await page.RowsAsync("table-images"))[0][0]);

            // Sorted: the jid column twice is descending.
            await page.ClickAsync("#table-images thead th:nth-child(1)");
            await page.ClickAsync("#table-images thead th:nth-child(1)");
            Assert.Equal(jids[^1].ToString(), (await page.RowsAsync("table-images"))[0][0]);

            // Filtered: only the flagged images, each highlighted; the outliers' cells marked.
            await page.ClickAsync("#table-images input[type=checkbox]");
            var flagged = model.Images.Count(i => i.Verdict is ImageVerdict.Bad or ImageVerdict.Suspect);
            Assert.Equal($"rows 1–{Math.Min(100, flagged)} of {flagged:N0} (filtered from 1,500)", await page.PagerTextAsync("table-images"));
            Assert.True(await page.EvalAsync<bool>("[...document.querySelectorAll('#table-images tbody tr')].every(r => r.className === 'bad' || r.className === 'suspect')"));
            Assert.True(await page.EvalAsync<int>("document.querySelectorAll('#table-images td.outlier').length") > 0);

            // Failures grouped by reason, largest first; the exit-65 group shows its first job's log, the lost ones say there is none.
            Assert.Equal(model.Failures.Count, await page.EvalAsync<int>("document.querySelectorAll('details.failure').length"));
            var failed = model.Failures.Single(g => g.ExitCode == 65);
            Assert.Contains("truncated: the header of HDU # ends before its END card", failed.Pattern);
            var logs = await page.EvalAsync<string[]>("[...document.querySelectorAll('details.failure pre')].map(p => p.textContent)");
            Assert.Contains(logs, l => l.Contains($"jid {failed.Jobs[0].Jid} ppid 15 science") && l.Contains("exit 65"));
            var summaries = await page.EvalAsync<string[]>("[...document.querySelectorAll('details.failure summary')].map(s => s.textContent)");
            Assert.Contains(summaries, s => s.Contains("exit 70") && s.Contains("killed by signal 9"));
            Assert.Contains(summaries, s => s.Contains("open"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
