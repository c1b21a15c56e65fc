using Dapper;
using Rapid.Cli.Bench;
using Rapid.Cli.Commands;
using Rapid.Cli.Embedded;
using Rapid.Cli.Output;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Report;
using Rapid.Functions.Report.Data;
using Rapid.Functions.Steps;
using Spectre.Console;

namespace Rapid.Cli.Tests.Commands;

/// <summary>
/// <c>rapid status</c>, <c>rapid logs</c> and <c>rapid report</c> as an operator uses them the morning after, on a night
/// written straight into the ops database (<see cref="SyntheticNight"/>: failed jobs with their logs, lost and open jobs).
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class NightCommandsTests(EmbeddedDatabaseFixture fixture) : IAsyncLifetime
{
    private static readonly ProcessingDate Night = ProcessingDate.Parse("20280912");
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"rapid-night-{Guid.NewGuid():N}"[..24]);
    private string _db = "";

    public async Task InitializeAsync()
    {
        _db = await fixture.CreateDatabaseAsync();
        await using var db = OpsDb.Create(_db);
        await new MigrationRunner(db).MigrateAsync();
        var keys = new ObjectKeys(Buckets.Default);
        await SyntheticNight.CreateAsync(db, new RapidHome(_home).OpenStore(), keys, Night,
            new SyntheticNightSpec(Images: 400, Fields: 4, Seed: 7, FailedFraction: 0.03, LostFraction: 0.02, OpenFraction: 0.005));
        // An earlier night: status and report show the latest one unless told otherwise.
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync("insert into jobs (ppid, procdate, field, fid, status, exitcode) select ppid, '2028-09-11', field, fid, 1, 0 from jobs where ppid = 12 limit 1");
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(_home)) Directory.Delete(_home, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Status_without_a_date_shows_the_latest_night_verdict_first_and_where_the_report_and_a_failed_jobs_log_are()
    {
        var (code, output, error) = await ConsoleCapture.InvokeAsync("status", "--db", _db, "--home", _home);

        Assert.True(code == 0, error);
        var lines = output.ReplaceLineEndings("\n").Split('\n');
        Assert.StartsWith("Night 20280912: FAILURES", lines[0].TrimStart('─', ' '));
        Assert.Matches(@"^\d+ of \d+ jobs did not finish\.$", lines[1]);
        Assert.Contains(lines.Take(8), l => l == "No report: none written for 20280912 yet (rapid report --procdate 20280912 writes it)");
        var failed = await FirstJobAsync("exitcode = 65");
        // Failures grouped by reason, the commonest first, each with the command that shows its first job's log.
        Assert.Matches(@"^\d+ jobs did not finish, for 3 reasons:$", lines.Single(l => l.Contains("did not finish,")));
        Assert.True(lines.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l,
            $@"^ +\d+ × ppid 15 exit 65: rid #: s3://…: truncated: the header of HDU # ends before its END card \(rapid logs {failed}\)$")), output);
        Assert.True(lines.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^ +\d+ × ppid 15 exit 70: killed by signal 9$")), output);
        Assert.DoesNotContain("Completeness against magnitude", output);
        Assert.DoesNotContain("\u001b", output);
    }

    [Fact]
    public async Task Status_after_rapid_report_points_to_the_page()
    {
        var (code, output, error) = await ConsoleCapture.InvokeAsync("report", "--db", _db, "--home", _home);
        Assert.True(code == 0, error);
        var page = new RapidHome(_home).OpenStore().PathOf(new ObjectKeys(Buckets.Default).NightReport(Night));
        Assert.True(File.Exists(page), page);
        Assert.Contains($"Night report of 20280912: FAILURES", output);
        Assert.Contains(page, output);

        (code, output, error) = await ConsoleCapture.InvokeAsync("status", "--db", _db, "--home", _home);
        Assert.True(code == 0, error);
        Assert.Contains($"Report: {page}", output.ReplaceLineEndings("\n").Split('\n').Take(8));
    }

    [Fact]
    public async Task The_summary_fits_an_80_column_terminal_in_a_screenful_with_the_bins_only_when_asked()
    {
        await using var db = OpsDb.Create(_db);
        var summary = await new SummarizeNight(db).SummarizeAsync(Night, requireJobs: true);
        var verdict = await new NightReportData(db, new RapidHome(_home).OpenStore(), new ObjectKeys(Buckets.Default), new NightReportOptions())
            .LoadVerdictAsync(Night, summary);
        var view = new NightView(summary, verdict, "/tmp/x/night.html", null, "/tmp/x/products");

        var lines = Print(view, bins: false);
        Assert.StartsWith("Night 20280912: FAILURES", lines[0].TrimStart('─', ' '));
        Assert.Equal("Report: /tmp/x/night.html", lines.First(l => l.StartsWith("Report", StringComparison.Ordinal)));
        Assert.True(lines.IndexOf("Report: /tmp/x/night.html") < 8, string.Join('\n', lines));
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: '{l}'"));
        Assert.True(lines.Count <= 30, $"{lines.Count} lines:\n{string.Join('\n', lines)}");
        Assert.Matches(@"^ 15 science +\d+ +\d+ +0 +\d+ +\d+ +\d+ +\d+ *$", lines.Single(l => l.StartsWith(" 15 ", StringComparison.Ordinal)));

        var withBins = Print(view, bins: true);
        Assert.Contains("Completeness against magnitude", string.Join('\n', withBins));
        Assert.True(withBins.Count > lines.Count);
    }

    [Fact]
    public async Task Logs_prints_what_the_job_was_then_its_log_and_tail_keeps_the_last_lines()
    {
        var failed = await FirstJobAsync("exitcode = 65");
        var (code, output, error) = await ConsoleCapture.InvokeAsync("logs", failed.ToString(), "--db", _db, "--home", _home);

        Assert.True(code == 0, error);
        Assert.Matches($@"^rapid: job {failed}, ppid 15 science \(difference image\), processing date 20280912: failed \(exit 65, [^)]+\): rid \d+: .*truncated", error.Trim());
        var log = output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(5, log.Length);
        Assert.Contains($"jid {failed} ppid 15 science", log[0]);

        (code, output, _) = await ConsoleCapture.InvokeAsync("logs", failed.ToString(), "--tail", "2", "--db", _db, "--home", _home);
        Assert.Equal(0, code);
        Assert.Equal(log[^2..], output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("exitcode = 70", "it never started, or was killed before it could upload one")]
    [InlineData("exitcode is null and ppid = 15", "it has not finished (a job uploads its log when it ends)")]
    public async Task Logs_of_a_job_without_a_log_says_why_in_one_line(string which, string why)
    {
        var jid = await FirstJobAsync(which);
        var (code, output, error) = await ConsoleCapture.InvokeAsync("logs", jid.ToString(), "--db", _db, "--home", _home);

        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Empty(output);
        var lines = error.Trim().Split('\n');
        Assert.Equal(2, lines.Length); // what the job was, then why there is no log
        Assert.Equal($"rapid: job {jid} has no log at s3://{Buckets.Default.Logs}/20280912/", lines[1][..(lines[1].IndexOf("/20280912/", StringComparison.Ordinal) + 10)]);
        Assert.EndsWith(why, lines[1]);
    }

    [Fact]
    public async Task Logs_of_an_unknown_job_is_one_line()
    {
        var (code, output, error) = await ConsoleCapture.InvokeAsync("logs", "999999", "--db", _db, "--home", _home);
        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Empty(output);
        Assert.Equal("rapid: job 999999 is not in this ops database (rapid status lists a night's jobs)", error.Trim());
    }

    [Fact]
    public async Task Status_and_report_on_an_empty_database_say_there_is_no_night_yet()
    {
        var empty = await fixture.CreateDatabaseAsync();
        foreach (var command in new[] { "status", "report" })
        {
            var (code, _, error) = await ConsoleCapture.InvokeAsync(command, "--db", empty, "--home", _home);
            Assert.True(code == CommandErrors.BadInput, $"rapid {command}: exit {code}: {error}");
            Assert.Equal("rapid: no job has run in this ops database yet, so there is no processing date to show (run a night first: rapid run, or rapid demo)", error.Trim());
        }
    }

    private List<string> Print(NightView view, bool bins)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(writer) });
        console.Profile.Width = 80;
        NightSummaryPrinter.Print(console, view, bins);
        return writer.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n').ToList();
    }

    private async Task<long> FirstJobAsync(string where)
    {
        await using var db = OpsDb.Create(_db);
        await using var conn = await db.OpenConnectionAsync();
        return await conn.QuerySingleAsync<long>($"select min(jid) from jobs where procdate = '2028-09-12' and {where}"); // test-written condition
    }
}
