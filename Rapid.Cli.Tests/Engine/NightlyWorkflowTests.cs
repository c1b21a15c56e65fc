using System.Diagnostics;
using Dapper;
using Rapid.Cli.Engine;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Jobs;
using Rapid.Cli.Output;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;
using Rapid.Pipeline.Fits;
using Spectre.Console;

namespace Rapid.Cli.Tests.Engine;

/// <summary>The whole night end to end: real simulator, ops database, pipeline processes and registration.</summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class NightlyWorkflowTests(EmbeddedDatabaseFixture fixture)
{
    [Fact]
    public async Task A_night_builds_references_then_differences_then_post_processes_and_registers_everything()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 6);
        var report = await survey.Workflow().Create().RunAsync(survey.LastNight("20280910"), SilentObserver.Instance);

        var jobs = (await Jobs(survey)).ToList();
        Assert.Single(jobs, j => j.Ppid == PipelineIds.ReferenceImage);
        Assert.Single(jobs, j => j.Ppid == PipelineIds.Science);
        Assert.Equal(2, jobs.Count(j => j.Ppid == PipelineIds.PostProcessing));
        Assert.All(jobs, j => Assert.True(j.Status == 1 && j.ExitCode is 0 or 32, $"job {j.Jid} (ppid {j.Ppid}) ended {j.ExitCode}: {j.Reason}"));
        Assert.Equal(1, report.Summary.ReferenceImages);
        Assert.Equal(1, report.Summary.DifferenceImages);

        await using var conn = await survey.Database.OpenConnectionAsync();
        // The science job used the reference the night built, and post-processing gave both canonical names.
        var diff = await conn.QuerySingleAsync<(long Rfid, string Filename, int Vbest)>("select rfid, filename, vbest::int from diffimages");
        var reference = await conn.QuerySingleAsync<(long Rfid, string Filename, int Vbest)>("select rfid, filename, vbest::int from refimages");
        Assert.Equal(reference.Rfid, diff.Rfid);
        Assert.Matches(@"rapid_field\d+_fid\d+_ppid12_v1_rfid\d+_refimage\.fits$", reference.Filename);
        Assert.Matches(@"_pid\d+_diffimage\.fits$", diff.Filename);
        Assert.Equal((1, 1), (reference.Vbest, diff.Vbest));
        var inputs = await conn.ExecuteScalarAsync<int>("select count(*) from refimimages");
        Assert.Equal(5, inputs); // the five earlier epochs, not the science image itself
        Assert.True(File.Exists(survey.Home.OpenStore().PathOf(Core.Storage.ObjectRef.Parse(diff.Filename))));
    }

    [Fact]
    public async Task Rerunning_a_night_on_the_same_date_makes_no_duplicates_and_another_date_makes_new_versions()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, seed: 11);
        await survey.Workflow().Create().RunAsync(survey.LastNight("20280910"), SilentObserver.Instance);
        var first = await Counts(survey);

        await survey.Workflow(force: true).Create().RunAsync(survey.LastNight("20280910"), SilentObserver.Instance);
        Assert.Equal(first, await Counts(survey));

        await survey.Workflow().Create().RunAsync(survey.LastNight("20280911"), SilentObserver.Instance);
        await using var conn = await survey.Database.OpenConnectionAsync();
        var versions = (await conn.QueryAsync<(int Version, int Vbest)>("select version, vbest::int from diffimages order by version")).ToList();
        Assert.Equal([(1, 0), (2, 1)], versions);
    }

    [Fact]
    public async Task A_science_image_without_three_earlier_images_ends_with_exit_33_and_no_products()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 3, seed: 5);
        await survey.Workflow().Create().RunAsync(survey.LastNight("20280910"), SilentObserver.Instance);

        var jobs = (await Jobs(survey)).ToList();
        var science = Assert.Single(jobs, j => j.Ppid == PipelineIds.Science);
        Assert.Equal((1, ExitCodes.NoReferenceImage), (science.Status, science.ExitCode));
        Assert.DoesNotContain(jobs, j => j.Ppid == PipelineIds.ReferenceImage);
        Assert.Equal((0, 0), await Counts(survey) is var c ? (c.Refs, c.Diffs) : default);
    }

    [Fact]
    public async Task A_killed_job_is_closed_out_as_failed_with_the_signal_as_reason()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, seed: 13);
        var workflow = survey.Workflow();
        var executor = workflow.CreateExecutor();
        executor.ChildStarted += (_, pid) =>
        {
            try { Process.GetProcessById(pid).Kill(); } // SIGKILL, as an OOM kill or a lost host does
            catch (ArgumentException) { } // already gone
        };
        await workflow.Create(executor).RunAsync(survey.LastNight("20280910"), SilentObserver.Instance);

        var reference = Assert.Single(await Jobs(survey), j => j.Ppid == PipelineIds.ReferenceImage);
        Assert.Equal(1, reference.Status);
        Assert.Equal(ExitCodes.Lost, reference.ExitCode);
        Assert.Contains("killed by signal 9", reference.Reason);
    }

    [Fact]
    public async Task A_corrupt_science_image_fails_its_job_with_exit_65_naming_the_file()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, seed: 19);
        var science = survey.Survey.Images.MaxBy(i => i.DateObsUtc)!;
        await File.WriteAllTextAsync(science.Path, "SIMPLE  =                    T / but the rest is missing");
        await survey.Workflow().Create().RunAsync(survey.LastNight("20280910"), SilentObserver.Instance);

        var job = Assert.Single(await Jobs(survey), j => j.Ppid == PipelineIds.Science);
        Assert.Equal((1, ExitCodes.InvalidInput), (job.Status, job.ExitCode));
        Assert.Contains(Path.GetFileName(science.Path), job.Reason);
        Assert.Equal(0, (await Counts(survey)).Diffs);
    }

    [Fact]
    public async Task An_empty_window_plans_nothing()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 3, seed: 17);
        var report = await survey.Workflow().Create().RunAsync(
            new Functions.Steps.WindowRequest("2030-01-01 00:00:00", "2030-01-02 00:00:00", "20300101"), SilentObserver.Instance);
        Assert.Equal(0, report.PlannedJobs);
        Assert.Equal(0, report.Summary.TotalJobs);
    }

    [Fact]
    public async Task A_night_injects_fake_sources_scores_them_and_reports_completeness_per_filter()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 6, seed: 23);
        var report = await survey.Workflow().Create().RunAsync(survey.LastNight("20280910"), SilentObserver.Instance);

        var jobs = (await Jobs(survey)).ToList();
        Assert.All(jobs, j => Assert.True(j.Status == 1 && j.ExitCode is 0 or 32, $"job {j.Jid} (ppid {j.Ppid}) ended {j.ExitCode}: {j.Reason}"));
        Assert.Single(jobs, j => j.Ppid == PipelineIds.NightRecovery);

        await using var conn = await survey.Database.OpenConnectionAsync();
        var job = await conn.QuerySingleAsync<(long Jid, long Seed, double BrightMag, double FaintMag, double MagLimit, string FileName)>(
            "select jid, seed, brightmag, faintmag, maglimit, filename from recoveryjobs");
        var figures = (await conn.QueryAsync<(string Kind, int Injected, int Found)>(
            "select kind, ninjected, nfound from recoveryfigures order by kind")).ToList();
        var fakes = Assert.Single(figures, f => f.Kind == "fake");
        Assert.Contains(figures, f => f.Kind == "transient");   // a simulated night also scores the truth transients
        Assert.InRange(job.MagLimit, job.BrightMag, job.FaintMag);

        // The derived table: one row per injected source; found + missed = injected; bright ones found.
        var table = FitsFile.ReadTable(survey.Home.OpenStore().PathOf(ObjectRef.Parse(job.FileName)), "RECOVERY");
        var kinds = table.GetStrings("KIND").Select(k => k.Trim()).ToArray();
        var found = table.GetLongs("FOUND");
        var mags = table.GetDoubles("MAG");
        var fakeRows = Enumerable.Range(0, table.RowCount).Where(i => kinds[i] == "fake").ToList();
        Assert.Equal(fakes.Injected, fakeRows.Count);
        Assert.Equal(fakes.Found, fakeRows.Count(i => found[i] == 1));
        Assert.Equal(fakes.Injected, fakeRows.Count(i => found[i] == 1) + fakeRows.Count(i => found[i] == 0));
        // A fake on a pixel the difference image masks cannot be found; every other bright one is.
        var masked = table.GetLongs("MASKED");
        Assert.All(fakeRows.Where(i => masked[i] == 1), i => Assert.Equal(0, found[i]));
        var bright = fakeRows.Where(i => mags[i] < job.MagLimit - 1.0 && masked[i] == 0).ToList();
        Assert.NotEmpty(bright);
        Assert.All(bright, i => Assert.True(found[i] == 1, $"fake {i} of mag {mags[i]:F2} (limit {job.MagLimit:F2}) was not found"));

        // The night's recovery job is a stage of its own after post-processing is registered: it read the tables under their stamped names.
        var stages = report.Stages.Select(st => st.Stage).ToList();
        Assert.True(stages.IndexOf(WorkflowStage.RegisterPostProcessing) < stages.IndexOf(WorkflowStage.PlanNightRecovery), string.Join(", ", stages));
        Assert.Contains(WorkflowStage.RegisterNightRecovery, stages);
        Assert.Matches(@"_pid\d+_injrecov\.fits$", job.FileName);
        var nightConfigKey = await conn.ExecuteScalarAsync<string>("select config_key from jobs where ppid = 18");
        var nightConfig = await Rapid.Core.Contracts.Contract.ReadAsync<Rapid.Core.Contracts.JobConfig>(survey.Home.OpenStore(), ObjectRef.Parse(nightConfigKey!));
        Assert.Equal(job.FileName, Assert.Single(nightConfig.SpecAs<Rapid.Core.Contracts.NightRecoverySpec>().Tables).File.ToString());

        // The night's merged table and curve: the same sources, bins that add up, a 50 % magnitude inside the range.
        var night = await conn.QuerySingleAsync<(int Tables, string FileName)>("select ntables, filename from nightrecovery");
        Assert.Equal(1, night.Tables);
        var merged = FitsFile.ReadTable(survey.Home.OpenStore().PathOf(ObjectRef.Parse(night.FileName)), "NIGHTRECOVERY");
        Assert.Equal(table.RowCount, merged.RowCount);
        var summary = Assert.Single(report.Summary.Recovery, r => r.Kind == "fake");
        Assert.Equal(("H158", fakes.Injected, fakes.Found), (summary.Filter, summary.Injected, summary.Found));
        var bins = report.Summary.RecoveryBins.Where(b => b.Kind == "fake").ToList();
        Assert.Equal(fakes.Injected, bins.Sum(b => b.Injected));
        Assert.Equal(fakes.Found, bins.Sum(b => b.Found));
        Assert.NotNull(summary.Mag50);
        Assert.InRange(summary.Mag50!.Value, job.BrightMag, job.FaintMag);

        // What `rapid status --procdate D --bins` prints: the recovery line per filter, then the bins.
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No });
        var status = await new SummarizeNight(survey.Database).SummarizeAsync(report.Summary.ProcDate, requireJobs: true);
        NightSummaryPrinter.Print(console, new NightView(status, null, null, null, null), bins: true);
        var text = output.ToString();
        Assert.Matches($@"(?m)^ *H158 fakes +{fakes.Found:N0} of {fakes.Injected:N0} ", text);
        Assert.Contains("Completeness against magnitude", text);
        Assert.Contains(summary.Mag50.Value.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), text);
    }

    [Fact]
    public async Task Without_fake_sources_a_night_plans_no_recovery_job()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, seed: 29);
        var workflow = survey.Workflow() with { Planning = survey.Workflow().Planning with { FakeSources = null } };
        var report = await workflow.Create().RunAsync(survey.LastNight("20280910"), SilentObserver.Instance);

        Assert.DoesNotContain(await Jobs(survey), j => j.Ppid == PipelineIds.NightRecovery);
        Assert.Empty(report.Summary.Recovery);
        await using var conn = await survey.Database.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from recoveryjobs"));
    }

    private sealed record JobRow(long Jid, int Ppid, int Status, int? ExitCode, string? Reason);

    private static async Task<IEnumerable<JobRow>> Jobs(TinySurvey survey)
    {
        await using var conn = await survey.Database.OpenConnectionAsync();
        return await conn.QueryAsync<JobRow>("select jid, ppid::int as ppid, status::int as status, exitcode, reason from jobs order by jid");
    }

    private static async Task<(long Jobs, long Refs, long Diffs, long Inputs)> Counts(TinySurvey survey)
    {
        await using var conn = await survey.Database.OpenConnectionAsync();
        return await conn.QuerySingleAsync<(long, long, long, long)>(
            "select (select count(*) from jobs), (select count(*) from refimages), (select count(*) from diffimages), (select count(*) from refimimages)");
    }
}
