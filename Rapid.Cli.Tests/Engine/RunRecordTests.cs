using System.Diagnostics;
using Dapper;
using Rapid.Cli.Commands;
using Rapid.Cli.Engine;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Jobs;
using Rapid.Functions.Record;

namespace Rapid.Cli.Tests.Engine;

/// <summary>
/// What the engine records of a run (its row under a tag, the executor's view of every attempt), the resubmission of a
/// failed job within the run, and what <c>rapid runs</c>, <c>rapid qc</c> and <c>rapid provenance</c> print of it: a real
/// night of real pipeline processes on the embedded PostgreSQL.
/// </summary>
[Collection(ConsoleCaptureCollection.Name)]
public sealed class RunRecordTests(EmbeddedDatabaseFixture fixture) : IClassFixture<EmbeddedDatabaseFixture>
{
    private const string ProcDate = "20280910";

    [Fact]
    public async Task A_killed_job_is_resubmitted_within_its_tagged_run_every_attempt_is_recorded_and_the_commands_show_the_run()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, seed: 19);
        // The science image is corrupt (exit 65: not resubmitted; its log's exit line is a QC error).
        var scienceImage = survey.Survey.Images.MaxBy(i => i.DateObsUtc)!;
        await File.WriteAllTextAsync(scienceImage.Path, "SIMPLE  =                    T / but the rest is missing");
        var workflow = survey.Workflow() with { Tag = "campaign-7", Resubmission = new ResubmissionPolicy { MaxAttempts = 2, BackoffSeconds = 0 } };
        var executor = workflow.CreateExecutor();
        var started = 0;
        executor.ChildStarted += (_, pid) =>
        {
            if (Interlocked.Increment(ref started) != 1) return;
            try { Process.GetProcessById(pid).Kill(); } // the first job (the reference) killed with SIGKILL, as a lost host
            catch (ArgumentException) { } // already gone
        };

        var report = await workflow.Create(executor).RunAsync(survey.LastNight(ProcDate), SilentObserver.Instance);

        await using var conn = await survey.Database.OpenConnectionAsync();
        var reference = await conn.QuerySingleAsync<long>("select jid from jobs where ppid = 12");
        var science = await conn.QuerySingleAsync<long>("select jid from jobs where ppid = 15");
        var attempts = (await conn.QueryAsync<(int Attempt, string Trigger, string State, int? ProcessExit, int? ExitCode, string? BatchReason)>(
            "select attempt, trigger, state, processexit, exitcode, batchreason from jobattempts where jid = @reference order by attempt",
            new { reference })).ToList();
        Assert.Equal([(1, AttemptTriggers.Plan, JobStates.Resubmitted, 137, ExitCodes.Lost), (2, AttemptTriggers.Resubmit, JobStates.PostProcessed, 0, 0)],
            attempts.Select(a => (a.Attempt, a.Trigger, a.State, a.ProcessExit, a.ExitCode)));
        Assert.Contains("killed by signal 9", attempts[0].BatchReason);
        Assert.Equal(
            [(JobStates.Planned, StateSources.Planner), (JobStates.Submitted, StateSources.Executor), (JobStates.Running, StateSources.Executor),
             (JobStates.Failed, StateSources.Executor), (JobStates.Lost, StateSources.Registration), (JobStates.Resubmitted, StateSources.Planner)],
            await States(conn, reference, 1));
        Assert.Equal(
            [JobStates.Planned, JobStates.Submitted, JobStates.Running, JobStates.Uploaded, JobStates.Succeeded, JobStates.Registered, JobStates.PostProcessed],
            (await States(conn, reference, 2)).Select(s => s.State));
        var sci = await conn.QuerySingleAsync<(int Attempts, int? ProcessExit, int? ExitCode, string State)>(
            "select count(*) over ()::int, processexit, exitcode, state from jobattempts where jid = @science", new { science });
        Assert.Equal((1, 65, ExitCodes.InvalidInput, JobStates.Registered), sci);
        Assert.Contains(report.Stages, s => s.Stage == WorkflowStage.RunReferences && s.Outcome.StartsWith("resubmission 1 of 1 after 0 s: 1 exit 0", StringComparison.Ordinal));

        var run = Assert.Single(await Runs.ListAsync(survey.Database, tag: "campaign-7"));
        Assert.Equal((RunStatuses.Succeeded, Runs.Embedded, 3, 4, 1, 1), (run.Status, run.Executor, run.Jobs, run.Attempts, run.Resubmitted, run.Failed));
        Assert.Equal(3L, await conn.ExecuteScalarAsync<long>("select count(*) from jobattempts where runid = @RunId and attempt = 1", new { run.RunId }));

        // rapid runs, rapid qc, rapid provenance on that database.
        string[] where = ["--db", survey.OwnerConnectionString, "--home", survey.Home.Path];
        var runs = await ConsoleCapture.InvokeAsync(["runs", "--tag", "campaign-7", .. where]);
        Assert.True(runs.Code == 0, runs.Error);
        var row = Assert.Single(runs.Output.Split('\n'), l => l.Contains("campaign-7", StringComparison.Ordinal));
        Assert.Matches($@"^\s*{run.RunId}\s+campaign-7\s+{ProcDate}\s+embedded\s+.*\bsucceeded\s+3\s+4\s+1\s+1\s", row);

        var qc = await ConsoleCapture.InvokeAsync(["qc", "--procdate", ProcDate, .. where]);
        Assert.Equal(0, qc.Code);
        Assert.Matches(@"error\s+error_exit\s+1\s+1", qc.Output);
        Assert.Matches($@"erro\s+error_exit\s+{science}/1\s+rid \d+\s+\d+\s+terminating exit code 65", qc.Output);

        var rfid = await conn.QuerySingleAsync<long>("select rfid from refimages");
        var provenance = await ConsoleCapture.InvokeAsync(["provenance", $"rfid:{rfid}", .. where]);
        Assert.Equal(0, provenance.Code);
        Assert.Contains($"made by job {reference} attempt 2 (", provenance.Output);
        Assert.Contains($"run {run.RunId} tag campaign-7)", provenance.Output);
        var l2Inputs = await conn.QuerySingleAsync<int>("select count(*)::int from refimimages where rfid = @rfid", new { rfid });
        var l2Lines = provenance.Output.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\bl2 s3://"));
        Assert.True(l2Lines == l2Inputs, $"{l2Lines} L2 images in the tree, {l2Inputs} co-added:\n{provenance.Output}");

        var bad = await ConsoleCapture.InvokeAsync(["runs", "--tag", "not a tag", .. where]);
        Assert.Equal(CommandErrors.BadInput, bad.Code);
        Assert.Contains("--tag 'not a tag'", Assert.Single(bad.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task A_cancelled_run_is_recorded_as_interrupted_with_why()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, seed: 13);
        var workflow = survey.Workflow();
        var executor = workflow.CreateExecutor();
        using var cancel = new CancellationTokenSource();
        executor.ChildStarted += (_, _) => cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => workflow.Create(executor).RunAsync(survey.LastNight(ProcDate), SilentObserver.Instance, cancel.Token));

        var run = Assert.Single(await Runs.ListAsync(survey.Database));
        Assert.Equal((RunStatuses.Interrupted, (string?)null), (run.Status, run.Tag));
        Assert.NotNull(run.Ended);
        await using var conn = await survey.Database.OpenConnectionAsync();
        Assert.False(string.IsNullOrEmpty(await conn.ExecuteScalarAsync<string>("select summary->>'error' from runs")));
    }

    private static async Task<List<(string State, string Source)>> States(Npgsql.NpgsqlConnection conn, long jid, int attempt) =>
        (await conn.QueryAsync<(string, string)>(
            "select state, source from jobstates where jid = @jid and attempt = @attempt order by job_state_rank(state), at",
            new { jid, attempt })).ToList();
}
