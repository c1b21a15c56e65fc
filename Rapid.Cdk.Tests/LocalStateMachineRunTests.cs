using System.Text.Json.Nodes;
using Dapper;
using Rapid.Cdk.Tests.Support;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Functions.Steps;

namespace Rapid.Cdk.Tests;

/// <summary>
/// The deployed definition, extracted from the synthesized template and validated with asl-validator,
/// run by aws-local-stepfunctions after the template's schema migration (as a deploy runs it): every
/// Lambda task is the function's published bundle started as the managed dotnet10 runtime starts it,
/// with the template's handler and environment, on a private PostgreSQL (as the operations role, the
/// migration as the owner) and a local S3 (s3rver); every Batch task the local executor running the
/// pipeline's entry point with its job definition's environment. Assertions are on the database and
/// on the execution (its output and the states it went through), not on logs.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class LocalStateMachineRunTests(DefaultStack stack, SecondStack small, EmbeddedDatabaseFixture database)
    : IClassFixture<EmbeddedDatabaseFixture>
{
    private const string ProcDate = "20280910";

    [Fact]
    public async Task A_tiny_night_goes_through_references_science_and_post_processing_to_the_summary()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 6);

        var run = Execute(survey, survey.LastNight(ProcDate));

        Assert.True(run.Status == "SUCCEEDED", $"{run.Status}: {run.Error} {run.Cause}\n{run.Log}");
        // One reference and one science image: single jobs; two post-processing jobs: an array job; one night recovery job.
        foreach (var state in new[]
                 {
                     "ResolveWindow", "PlanReferences", "RunReferencesSingle", "ReferencesRan", "RegisterReferences",
                     "PlanScience", "RunScienceSingle", "ScienceRan", "RegisterScience",
                     "PlanPostProc", "RunPostProcArray", "PostProcRan", "RegisterPostProc",
                     "PlanNightRecovery", "RunNightRecoverySingle", "NightRecoveryRan", "RegisterNightRecovery", "Summarize", "NotifyNight",
                 })
            Assert.True(run.Entered(state), $"{state} not entered; went through {string.Join(", ", run.States)}\n{run.Log}");

        var jobs = await Jobs(survey);
        Assert.Single(jobs, j => j.Ppid == PipelineIds.ReferenceImage);
        Assert.Single(jobs, j => j.Ppid == PipelineIds.Science);
        Assert.Equal(2, jobs.Count(j => j.Ppid == PipelineIds.PostProcessing));
        // The night's injection-recovery job, in a stage of its own.
        Assert.Single(jobs, j => j.Ppid == PipelineIds.NightRecovery);
        // A warning (32, e.g. too few stars to match fluxes on a tiny image) is a success for Batch.
        Assert.All(jobs, j => Assert.True(j is { Status: 1, ExitCode: 0 or ExitCodes.Degraded }, $"job {j.Jid} (ppid {j.Ppid}) ended {j.ExitCode}: {j.Reason}"));
        await using var conn = await survey.Database.OpenConnectionAsync();
        var reference = await conn.QuerySingleAsync<(long Rfid, string Filename)>("select rfid, filename from refimages");
        var diff = await conn.QuerySingleAsync<(long Rfid, string Filename)>("select rfid, filename from diffimages");
        Assert.Equal(reference.Rfid, diff.Rfid);
        Assert.Matches(@"_ppid12_v1_rfid\d+_refimage\.fits$", reference.Filename);

        var output = run.Output!;
        Assert.Equal(ProcDate, output["night"]!["procDate"]!.GetValue<string>());
        var summary = output["summary"]!;
        Assert.Equal((5, 1, 1), (Int(summary, "totalJobs"), Int(summary, "referenceImages"), Int(summary, "differenceImages")));
        // The summary lists warnings as well as errors.
        Assert.Equal(jobs.Count(j => j.ExitCode != 0), Int(summary, "failureCount"));
        Assert.Equal(1, Int(output["science"]!["registered"]!, "differenceImages"));
        Assert.Equal(2, Int(output["postProcessing"]!["registered"]!, "registered"));   // two ppid 17
        Assert.Equal(1, Int(output["nightRecovery"]!["registered"]!, "registered"));    // the night's ppid 18, in its own stage
        Assert.False(output["science"]!["run"]!["failed"]!.GetValue<bool>());
        var notification = Assert.Single(run.Notifications);
        Assert.Equal($"Rapid night {ProcDate} processed", notification["Subject"]!.GetValue<string>());

        // The master secret went to the migration alone; every step of the night used the operations role's.
        var master = SecretArn(stack, "rapid");
        var operations = SecretArn(stack, "rapid_ops");
        Assert.All(run.SecretRequests.Where(r => r.SecretId == master), r => Assert.Contains("Migrate", r.Function));
        Assert.Contains(run.SecretRequests, r => r.Function.Contains("Migrate") && r.SecretId == operations);
        Assert.Contains(run.SecretRequests, r => r.Function.Contains("PlanScience") && r.SecretId == operations);
        await using var check = await survey.Database.OpenConnectionAsync();
        Assert.True(await check.QuerySingleAsync<bool>("select rolcanlogin from pg_roles where rolname = 'rapid_ops'"));
    }

    [Fact]
    public async Task A_failing_child_fails_its_array_job_and_registration_still_records_every_job()
    {
        // Two fields: two science images in the last night, one of them corrupt.
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 4, fields: 2, seed: 19);
        var lastNight = survey.Survey.Images.Max(i => i.DateObsUtc).Date;
        var corrupt = survey.Survey.Images.Where(i => i.DateObsUtc.Date == lastNight).OrderBy(i => i.Path).First();
        await File.WriteAllTextAsync(corrupt.Path, "SIMPLE  =                    T / but the rest is missing");

        var run = Execute(survey, survey.LastNight(ProcDate));

        // Batch fails an array job when any child fails; the Catch still goes on to registration.
        Assert.True(run.Status == "SUCCEEDED", $"{run.Status}: {run.Error} {run.Cause}\n{run.Log}");
        Assert.True(run.Entered("RunScienceArray") && run.Entered("ScienceFailed") && run.Entered("RegisterScience"),
            string.Join(", ", run.States));
        Assert.False(run.Entered("ScienceRan"));
        var science = run.Output!["science"]!;
        Assert.True(science["run"]!["failed"]!.GetValue<bool>());
        Assert.Equal("States.TaskFailed", science["run"]!["error"]!.GetValue<string>());
        Assert.True(science["registered"]!["runFailed"]!.GetValue<bool>());
        Assert.Equal((2, 0, 1), (Int(science["registered"]!, "registered"), Int(science["registered"]!, "lost"), Int(science["registered"]!, "differenceImages")));

        var scienceJobs = (await Jobs(survey)).Where(j => j.Ppid == PipelineIds.Science).ToList();
        Assert.Equal(2, scienceJobs.Count);
        var failed = Assert.Single(scienceJobs, j => ExitCodes.Severity(j.ExitCode ?? ExitCodes.Lost) == ExitCodeSeverity.Error);
        Assert.Equal((1, ExitCodes.InvalidInput), (failed.Status, failed.ExitCode));
        Assert.Contains(Path.GetFileName(corrupt.Path), failed.Reason);
        Assert.Single(scienceJobs, j => j is { Status: 1, ExitCode: 0 or ExitCodes.Degraded });

        var summary = run.Output!["summary"]!;
        Assert.Equal(1, Int(summary, "differenceImages"));
        Assert.Contains(summary["failures"]!.AsArray(), f => f!["jid"]!.GetValue<long>() == failed.Jid && f["exitCode"]!.GetValue<int>() == ExitCodes.InvalidInput);
    }

    [Fact]
    public async Task An_empty_night_skips_every_batch_stage_and_still_reports()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 3, seed: 17);

        var run = Execute(survey, new WindowRequest("2030-01-01 00:00:00", "2030-01-02 00:00:00", "20300101"));

        Assert.True(run.Status == "SUCCEEDED", $"{run.Status}: {run.Error} {run.Cause}\n{run.Log}");
        // All four stages, the night's recovery job (ppid 18) included: no science tables, nothing to merge.
        foreach (var stage in new[] { "References", "Science", "PostProc", "NightRecovery" })
        {
            Assert.True(run.Entered($"{stage}Skipped"), $"{stage}Skipped not entered: {string.Join(", ", run.States)}");
            Assert.False(run.Entered($"Register{stage}"));
            Assert.DoesNotContain(run.States, s => s.StartsWith($"Run{stage}", StringComparison.Ordinal));
        }
        Assert.Empty(await Jobs(survey));
        var summary = run.Output!["summary"]!;
        Assert.Equal(("20300101", 0), (summary["procDate"]!.GetValue<string>(), Int(summary, "totalJobs")));
        Assert.Single(run.Notifications);
    }

    /// <summary>
    /// The Choice into the Map taken on a real night: in a stack whose array limit is 4
    /// (rapid:maxArraySize, the plans chunk at the same size), five reference tiles go
    /// Plan → Choice → Map over two chunks → Register, from the execution's start. One chunk fails (a
    /// corrupt reference input): the other still runs, and registration records every job.
    /// </summary>
    [Fact]
    public async Task A_night_above_the_array_limit_takes_the_choice_into_the_map_and_a_failed_chunk_does_not_stop_the_others()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 4, fields: 5, seed: 23);
        var corrupt = survey.Survey.Images.Where(i => i.FieldIndex == 0).MinBy(i => i.DateObsUtc)!;
        await File.WriteAllTextAsync(corrupt.Path, "SIMPLE  =                    T / but the rest is missing");

        var run = Execute(small, survey, survey.LastNight(ProcDate));

        Assert.True(run.Status == "SUCCEEDED", $"{run.Status}: {run.Error} {run.Cause}\n{run.Log}");
        var order = new[] { "PlanReferences", "ChooseReferencesRun", "RunReferencesChunks", "RunReferencesChunk", "RegisterReferences" };
        Assert.Equal(order, run.States.Where(order.Contains).Distinct());
        Assert.Equal(2, run.States.Count(s => s == "RunReferencesChunk"));
        Assert.True(run.Entered("ReferencesChunkFailed") && run.Entered("ReferencesChunkRan"), string.Join(", ", run.States));
        Assert.DoesNotContain(run.States, s => s is "RunReferencesArray" or "RunReferencesSingle");
        var references = run.Output!["references"]!;
        Assert.Equal([3, 2], references["plan"]!["chunks"]!.AsArray().Select(c => c!["arraySize"]!.GetValue<int>()));
        var chunks = references["run"]!["chunks"]!.AsArray();
        var failedChunk = Assert.Single(chunks, c => c!["failed"]!.GetValue<bool>());
        Assert.Equal("States.TaskFailed", failedChunk!["error"]!.GetValue<string>());
        Assert.True(references["registered"]!["runFailed"]!.GetValue<bool>());
        Assert.Equal(5, Int(references["registered"]!, "registered"));

        // The corrupt image is an input of every reference tile it overlaps: those jobs fail; the other chunk's succeed.
        var referenceJobs = (await Jobs(survey)).Where(j => j.Ppid == PipelineIds.ReferenceImage).ToList();
        Assert.Equal(5, referenceJobs.Count);
        var failed = referenceJobs.Where(j => ExitCodes.Severity(j.ExitCode ?? ExitCodes.Lost) == ExitCodeSeverity.Error).ToList();
        Assert.NotEmpty(failed);
        Assert.All(failed, j => Assert.Contains(Path.GetFileName(corrupt.Path), j.Reason));
        Assert.InRange(referenceJobs.Count(j => j is { Status: 1, ExitCode: 0 or ExitCodes.Degraded }), 2, 5 - failed.Count);
        Assert.Equal(5 - failed.Count, Int(run.Output!["summary"]!, "referenceImages"));
        Assert.True(run.Entered("Summarize"));
    }

    /// <summary>
    /// Issue 12's resubmission on AWS: the execution input asks for two attempts without back-off under a tag; the first
    /// child of the night (the reference job) is killed as it starts, as a lost host. Registration closes it as lost (70),
    /// the references' retry loop plans it again, waits, runs it alone and registers it, asks once more and moves on;
    /// every attempt is recorded under the execution's run, which ends succeeded.
    /// </summary>
    [Fact]
    public async Task A_lost_child_is_resubmitted_by_its_stages_retry_loop_and_both_attempts_are_recorded_under_the_tagged_run()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 4, seed: 19);
        var window = survey.LastNight(ProcDate);
        var input = Input(window);
        input["tag"] = "campaign-aws";
        input["maxAttempts"] = 2;
        input["retryBackoff"] = 0;

        var run = Execute(stack, survey, input, killFirstChild: true);

        Assert.True(run.Status == "SUCCEEDED", $"{run.Status}: {run.Error} {run.Cause}\n{run.Log}");
        var order = new[]
        {
            "RunReferencesSingle", "ReferencesFailed", "RegisterReferences", "ReferencesRetryStart", "PlanRetryReferences", "AnyReferencesRetry",
            "WaitReferencesRetry", "ChooseReferencesRetryRun", "RerunReferencesSingle", "ReferencesRetryRan", "RegisterReferencesRetry",
            "PlanRetryReferences", "AnyReferencesRetry", "PlanScience",
        };
        var from = run.States.ToList().IndexOf("RunReferencesSingle");
        Assert.True(from >= 0 && run.States.Skip(from).Take(order.Length).SequenceEqual(order), string.Join(", ", run.States));
        // The other stages had nothing to resubmit: one round each, empty.
        Assert.DoesNotContain(run.States, s => s is "WaitScienceRetry" or "WaitPostProcRetry" or "WaitNightRecoveryRetry");
        var references = run.Output!["references"]!;
        Assert.Equal((2, 0), (Int(references["retry"]!, "round"), Int(references["retry"]!["plan"]!, "arraySize")));
        Assert.Equal(1, Int(references["retryRegistered"]!, "registered"));

        await using var conn = await survey.Database.OpenConnectionAsync();
        var runRow = await conn.QuerySingleAsync<(long RunId, string Tag, string Executor, string Status, string Execution)>(
            "select runid, tag, executor, status, execution from runs");
        // The run names its execution (the context object's $$.Execution.Id, passed to ResolveWindow).
        Assert.Equal(("campaign-aws", "aws", "succeeded", run.Execution), (runRow.Tag, runRow.Executor, runRow.Status, runRow.Execution));
        Assert.StartsWith($"arn:aws:states:{SynthesizedStack.Region}:{SynthesizedStack.Account}:execution:", run.Execution);
        var reference = await conn.QuerySingleAsync<long>("select jid from jobs where ppid = 12");
        var attempts = (await conn.QueryAsync<(int Attempt, string Trigger, string State, int? ExitCode, long? RunId)>(
            "select attempt, trigger, state, exitcode, runid from jobattempts where jid = @reference order by attempt", new { reference })).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.Equal((1, "plan", "resubmitted", ExitCodes.Lost, runRow.RunId),
            (attempts[0].Attempt, attempts[0].Trigger, attempts[0].State, attempts[0].ExitCode, attempts[0].RunId));
        Assert.Equal((2, "resubmit", 0, runRow.RunId), (attempts[1].Attempt, attempts[1].Trigger, attempts[1].ExitCode ?? -1, attempts[1].RunId));
        Assert.Contains(attempts[1].State, new[] { "registered", "postprocessed" });
        // The resubmitted reference is what the science job subtracted.
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*)::int from refimages where status > 0"));
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*)::int from diffimages where status > 0"));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*)::int from runleases"));
    }

    /// <summary>
    /// Issue 13: one landed image's execution of {stack}-prompt, as the Ingest λ starts it (its name and input from
    /// IngestHandler: a science job for exactly that rid), run end to end with a failing child (the first Batch job's first
    /// child is killed as it starts, a lost host): the reference the image needs is made from the earlier epochs (its lost
    /// job resubmitted by the stage's retry loop), then the science job of that image alone and its post-processing, and the
    /// run names its execution. Another SCA of the same exposure second, registered and waiting, is left alone (as
    /// <c>rapid watch</c> leaves it). The event delivered again (an execution started anew for the same image) plans
    /// nothing and leaves the products as they were, and the nightly run of that date then processes the other SCA only
    /// (the prompt image left l2pending when its science job was planned).
    /// </summary>
    [Fact]
    public async Task A_landed_image_is_processed_alone_by_its_prompt_execution_and_a_second_one_for_it_changes_nothing()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 6, seed: 41);
        long rid;
        await using (var conn = await survey.Database.OpenConnectionAsync())
            rid = await conn.QuerySingleAsync<long>("select rid from l2files order by dateobs desc limit 1");
        var otherSca = await AnotherScaOfTheExposureAsync(survey, rid);
        var input = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(Rapid.Functions.Lambda.IngestHandler.PromptInput(rid),
            Rapid.Functions.Lambda.LambdaJsonContext.Default.ExecutionInput))!.AsObject();
        input["submission"]!["inputs"]!["procdate"] = ProcDate;
        var name = Rapid.Functions.Lambda.IngestHandler.ExecutionName(rid, 1);

        var run = Execute(stack, survey, input, killFirstChild: true, workflow: "PromptWorkflow", executionName: name);

        Assert.True(run.Status == "SUCCEEDED", $"{run.Status}: {run.Error} {run.Cause}\n{run.Log}");
        foreach (var state in new[]
                 {
                     "ResolveWindow", "Prompt", "PlanReferences", "RunReferencesSingle", "ReferencesFailed", "RegisterReferences", "WaitReferencesRetry",
                     "RerunReferencesSingle", "PlanScience", "RunScienceSingle", "ScienceRan", "RegisterScience", "PlanPostProc", "RegisterPostProc", "Summarize",
                 })
            Assert.True(run.Entered(state), $"{state} not entered; went through {string.Join(", ", run.States)}\n{run.Log}");
        Assert.DoesNotContain(run.States, s => s.Contains("NightRecovery", StringComparison.Ordinal));
        Assert.Empty(run.Notifications);
        Assert.EndsWith($":execution:{Rapid.Cdk.Workflow.PromptWorkflow.StateMachineName(stack.Stack)}:{name}", run.Execution);
        await using (var conn = await survey.Database.OpenConnectionAsync())
        {
            Assert.Equal([rid], await conn.QueryAsync<long>("select rid from jobs where ppid = 15"));
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*)::int from diffimages where rid = @rid and status > 0 and vbest > 0", new { rid }));
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*)::int from refimages where status > 0"));
            Assert.Equal([otherSca], await conn.QueryAsync<long>("select rid from l2pending where rid = any(@rids)", new { rids = new[] { rid, otherSca } }));
            var runRow = await conn.QuerySingleAsync<(string Status, string Execution)>("select status, execution from runs");
            Assert.Equal(("succeeded", run.Execution), runRow);
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*)::int from runleases"));
        }
        var jobsBefore = await Jobs(survey);

        var again = Execute(stack, survey, input, workflow: "PromptWorkflow", executionName: name + "-again");

        Assert.True(again.Status == "SUCCEEDED", $"{again.Status}: {again.Error} {again.Cause}\n{again.Log}");
        Assert.True(again.Entered("ScienceSkipped") && again.Entered("ReferencesSkipped"), string.Join(", ", again.States));
        Assert.Equal(jobsBefore, await Jobs(survey));

        // The nightly run of the date: the image was processed promptly, so only the other SCA is planned.
        var night = Execute(survey, survey.LastNight(ProcDate));
        Assert.True(night.Status == "SUCCEEDED", $"{night.Status}: {night.Error} {night.Cause}\n{night.Log}");
        await using var check = await survey.Database.OpenConnectionAsync();
        Assert.Equal([rid, otherSca], (await check.QueryAsync<long>("select rid from jobs where ppid = 15 order by jid")).ToList());
    }

    /// <summary>
    /// Issue 13: a <c>reference</c> submission as the job API starts it on {stack}-prompt (<c>{"submission": {"type": "reference",
    /// ...}}</c>): the reference of its (field, filter) from the images observed before its processing date, its post-processing,
    /// and nothing else (no science job, no night recovery, no report), as <c>rapid serve</c> runs it; the run ends and frees the date.
    /// </summary>
    [Fact]
    public async Task A_reference_submission_makes_its_tiles_reference_alone_on_the_prompt_machine()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 4, seed: 43);
        long field;
        await using (var conn = await survey.Database.OpenConnectionAsync())
            field = await conn.QueryFirstAsync<long>("select field from l2files limit 1");
        var input = new JsonObject
        {
            ["submission"] = new JsonObject
            {
                ["type"] = "reference",
                ["inputs"] = new JsonObject { ["field"] = field.ToString(System.Globalization.CultureInfo.InvariantCulture), ["filter"] = "H158", ["procdate"] = ProcDate },
            },
            ["tag"] = "refs-1",
        };

        var run = Execute(stack, survey, input, workflow: "PromptWorkflow", executionName: "job1-reference-" + ProcDate);

        Assert.True(run.Status == "SUCCEEDED", $"{run.Status}: {run.Error} {run.Cause}\n{run.Log}");
        foreach (var state in new[] { "PlanReferences", "RunReferencesSingle", "RegisterReferences", "ScienceSkipped", "PlanPostProc", "RegisterPostProc", "Summarize" })
            Assert.True(run.Entered(state), $"{state} not entered; went through {string.Join(", ", run.States)}\n{run.Log}");
        Assert.DoesNotContain(run.States, s => s.Contains("NightRecovery", StringComparison.Ordinal));
        await using var check = await survey.Database.OpenConnectionAsync();
        var jobs = await Jobs(survey);
        var reference = Assert.Single(jobs, j => j.Ppid == PipelineIds.ReferenceImage);
        Assert.DoesNotContain(jobs, j => j.Ppid is PipelineIds.Science or PipelineIds.NightRecovery);
        Assert.Contains(jobs, j => j.Ppid == PipelineIds.PostProcessing);
        Assert.Equal(field, await check.QuerySingleAsync<long>("select field from refimages where jid = @jid and status > 0", new { reference.Jid }));
        Assert.Equal(("succeeded", "refs-1"), await check.QuerySingleAsync<(string, string)>("select status, tag from runs"));
        Assert.Equal(0, await check.ExecuteScalarAsync<int>("select count(*)::int from runleases"));
    }

    /// <summary>
    /// Registers another detector's file of <paramref name="rid"/>'s exposure (the same DATE-OBS second): a copy of its file under
    /// another key, as SCA 2, with its footprint row; as it waits for its own landing or the night, it is in l2pending.
    /// </summary>
    private static async Task<long> AnotherScaOfTheExposureAsync(TinySurvey survey, long rid)
    {
        await using var conn = await survey.Database.OpenConnectionAsync();
        var source = Rapid.Core.Storage.ObjectRef.Parse(await conn.QuerySingleAsync<string>("select filename from l2files where rid = @rid", new { rid }));
        var copy = source with { Key = source.Key[..source.Key.LastIndexOf('.')] + "_sca02.fits" };
        var store = survey.Home.OpenStore();
        await store.PutBytesAsync(copy, await store.GetBytesAsync(source));
        async Task<string> Columns(string table, params string[] except) => string.Join(", ", await conn.QueryAsync<string>(
            "select column_name from information_schema.columns where table_name = @table and not column_name = any(@except) order by ordinal_position",
            new { table, except }));
        var l2 = await Columns("l2files", "rid", "sca", "filename");
        var other = await conn.QuerySingleAsync<long>($"insert into l2files ({l2}, sca, filename) select {l2}, 2, @filename from l2files where rid = @rid returning rid",
            new { rid, filename = copy.ToString() });
        var meta = await Columns("l2filemeta", "rid");
        await conn.ExecuteAsync($"insert into l2filemeta (rid, {meta}) select @other, {meta} from l2filemeta where rid = @rid", new { rid, other });
        return other;
    }

    /// <summary>
    /// Issue 9's failure path: a state of the night fails (every plan step is given a settings profile that does not exist),
    /// the Parallel's Catch runs ReleaseNight, and the execution fails with the plan step's error. The run is ended as
    /// failed and the date's lease is free: a second execution of the same date starts and runs to its summary (without
    /// ReleaseNight it would stop at ResolveWindow until the lease expired, 50 hours later).
    /// </summary>
    [Fact]
    public async Task A_failed_state_releases_the_nights_lease_and_a_second_execution_of_the_date_then_runs()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 3, seed: 29);
        var empty = new WindowRequest("2030-01-01 00:00:00", "2030-01-02 00:00:00", "20300101");
        var missingProfile = new Dictionary<string, string> { ["RAPID_SETTINGS_PROFILE"] = "s3://rapid-nowhere/settings/missing.json" };

        var failed = Execute(stack, survey, Input(empty), environment: missingProfile);

        Assert.True(failed.Status == "FAILED", $"{failed.Status}: {failed.Error} {failed.Cause}\n{failed.Log}");
        Assert.Equal(["ResolveWindow", "Night", "PlanReferences", "ReleaseNight", "NightFailed"], failed.States);
        // The execution fails with the plan step's own error (a Lambda error: its type and message), not a generic one.
        Assert.False(string.IsNullOrEmpty(failed.Error));
        Assert.DoesNotContain("States.", failed.Error!, StringComparison.Ordinal);
        Assert.Contains("missing.json", failed.Cause, StringComparison.Ordinal);
        await using (var conn = await survey.Database.OpenConnectionAsync())
        {
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*)::int from runleases"));
            var row = await conn.QuerySingleAsync<(string Status, string Error)>("select status, summary->>'error' from runs");
            Assert.Equal("failed", row.Status);
            Assert.StartsWith(failed.Error!, row.Error, StringComparison.Ordinal);
        }

        var second = Execute(stack, survey, Input(empty));

        Assert.True(second.Status == "SUCCEEDED", $"{second.Status}: {second.Error} {second.Cause}\n{second.Log}");
        Assert.Equal("20300101", second.Output!["summary"]!["procDate"]!.GetValue<string>());
        await using var check = await survey.Database.OpenConnectionAsync();
        Assert.Equal(["failed", "succeeded"], (await check.QueryAsync<string>("select status from runs order by runid")).ToList());
    }

    /// <summary>
    /// Issue 13: a job API <c>diff</c> on {stack}-diff, as SubmitJob leaves it: the user's science image and reference (image,
    /// coverage, uncertainty) under the pipeline bucket's diff-inputs/, checked and written as a job config and one-entry job
    /// list (Rapid.Functions.Api.DiffOnAws), the execution input naming that list. The one Batch task runs it through the
    /// local executor with the science job definition's environment: the products, the diff's manifest and its log are in the
    /// stack's buckets of the local S3, and the execution succeeds having entered RunDiff alone.
    /// </summary>
    [Fact]
    public async Task A_diff_runs_its_job_list_as_one_science_job_that_writes_its_manifest_and_products()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 2, seed: 47);
        List<string> images;
        await using (var conn = await survey.Database.OpenConnectionAsync())
            images = (await conn.QueryAsync<string>("select filename from l2files order by dateobs")).ToList();
        var store = new Rapid.Core.Storage.DirectoryObjectStore(survey.Home.StoreRoot);
        // The stack's products and logs buckets as the local S3 names them (the job definitions' RAPID_*_BUCKET), the diff's
        // inputs and job files in the pipeline bucket the upload brings.
        string Local(string prefix) => stack.Resources("AWS::S3::Bucket").Single(b => b.Id.StartsWith(prefix, StringComparison.Ordinal)).Id.ToLowerInvariant();
        var buckets = Rapid.Core.Storage.Buckets.Default with { Products = Local("StorageProducts"), Logs = Local("StorageLogs") };
        var keys = new Rapid.Core.Storage.ObjectKeys(buckets);
        Rapid.Core.Storage.ObjectRef Input(string name) => new(buckets.Pipeline, Rapid.Functions.Api.DiffOnAws.InputPrefix + name);
        var epoch = Rapid.Pipeline.Fits.FitsFile.ReadImage(store.PathOf(Rapid.Core.Storage.ObjectRef.Parse(images[0])));
        var exptime = epoch.Header.GetDouble("EXPTIME")!.Value;
        foreach (var (name, pixel) in new (string, Func<float, float>)[] { ("ref.fits", p => (float)(p / exptime)), ("ref_cov.fits", _ => 4f), ("ref_unc.fits", _ => 0.05f) })
        {
            var path = store.PathOf(Input(name));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Rapid.Pipeline.Fits.FitsFile.WriteImageExtension(path, new Rapid.Pipeline.Fits.FitsHeader(),
                new Rapid.Pipeline.Fits.FitsImage(epoch.Width, epoch.Height, [.. epoch.Pixels.Select(pixel)], epoch.Header.Clone()), "SCI");
        }
        await store.PutFileAsync(Input("science.fits"), store.PathOf(Rapid.Core.Storage.ObjectRef.Parse(images[^1])));
        var submission = JobTypes.DiffObjects.Validate(new Dictionary<string, string?>
        {
            ["science"] = Input("science.fits").ToString(), ["reference-image"] = Input("ref.fits").ToString(),
            ["reference-coverage"] = Input("ref_cov.fits").ToString(), ["reference-uncertainty"] = Input("ref_unc.fits").ToString(),
        });
        var diff = new Rapid.Functions.Api.DiffOnAws(store, keys);
        var planned = await diff.PlanAsync(1, 900001, ProcessingDate.Parse(ProcDate), await diff.CheckAsync(submission), new Rapid.Core.Contracts.PipelineSettings(), null);
        var input = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(new Rapid.Functions.Lambda.DiffExecutionInput
        {
            Submission = Rapid.Functions.Lambda.SubmissionInput.Of(submission), JobList = planned.JobList.ToString(), ProcDate = ProcDate,
        }, Rapid.Functions.Lambda.LambdaJsonContext.Default.DiffExecutionInput))!.AsObject();
        var s3 = Directory.CreateTempSubdirectory("rapid-local-s3-diff-");
        try
        {
            var definition = StateMachineDefinition.Extract(stack, "DiffWorkflow");
            var run = LocalStateMachine.Execute(stack, definition, input, new LocalStateMachine.Options(survey.Home.StoreRoot, survey.OwnerConnectionString,
                new Dictionary<string, string>(), ExecutionName: "job1-diff", StateMachine: "DiffWorkflow", S3Directory: s3.FullName));

            Assert.True(run.Status == "SUCCEEDED", $"{run.Status}: {run.Error} {run.Cause}\n{run.Log}");
            Assert.Equal(["RunDiff"], run.States);
            Assert.EndsWith($":execution:{Rapid.Cdk.Workflow.DiffWorkflow.StateMachineName(stack.Stack)}:job1-diff", run.Execution);
            string Stored(Rapid.Core.Storage.ObjectRef obj) => Path.Combine(s3.FullName, obj.Bucket, obj.Key + "._S3rver_object");
            var manifest = JsonNode.Parse(File.ReadAllText(Stored(planned.Manifest)))!;
            // Made its products (exit 0, or 32: degraded with warnings, as this hand-made reference may give): a diff that succeeded.
            var exit = manifest["exitCode"]!.GetValue<int>();
            Assert.True(ExitCodes.HasProducts(exit) && exit < ExitCodes.Error, $"exit {exit}: {manifest["reason"]}");
            Assert.Equal(900001, manifest["jid"]!.GetValue<long>());
            var products = manifest["products"]!.AsArray().Select(p => Rapid.Core.Storage.ObjectRef.Parse(p!["file"]!.GetValue<string>())).ToList();
            Assert.Contains(manifest["products"]!.AsArray(), p => p!["role"]!.GetValue<string>() == Rapid.Core.Contracts.ProductRoles.DifferenceImage);
            Assert.All(products, p => Assert.True(File.Exists(Stored(p)) && p.ToString().StartsWith(planned.OutDirectory, StringComparison.Ordinal), p.ToString()));
            Assert.True(File.Exists(Stored(keys.Log(ProcessingDate.Parse(ProcDate), 900001))));
        }
        finally
        {
            s3.Delete(recursive: true);
        }
    }

    private static string SecretArn(SynthesizedStack stack, string username) =>
        $"arn:aws:secretsmanager:{SynthesizedStack.Region}:{SynthesizedStack.Account}:secret:" +
        stack.Resources("AWS::SecretsManager::Secret").Single(s =>
            s.Resource["Properties"]!["GenerateSecretString"]?["SecretStringTemplate"]?.GetValue<string>() == $"{{\"username\":\"{username}\"}}").Id;

    private LocalStateMachine.Run Execute(TinySurvey survey, WindowRequest window) => Execute(stack, survey, window);

    private static LocalStateMachine.Run Execute(SynthesizedStack stack, TinySurvey survey, WindowRequest window) =>
        Execute(stack, survey, Input(window));

    private static JsonObject Input(WindowRequest window) =>
        new() { ["startDateTime"] = window.StartDateTime, ["endDateTime"] = window.EndDateTime, ["procDate"] = window.ProcDate };

    private static LocalStateMachine.Run Execute(SynthesizedStack stack, TinySurvey survey, JsonObject input,
        IReadOnlyDictionary<string, string>? environment = null, bool killFirstChild = false, string workflow = "NightlyWorkflow",
        string? executionName = null)
    {
        var definition = StateMachineDefinition.Extract(stack, workflow);
        var validation = AslValidator.Validate(definition);
        Assert.True(validation.ExitCode == 0, validation.Output);

        var variables = new Dictionary<string, string>
        {
            // The tiny survey's images are 192 px: reference tiles of 256 px, as the Cli tests use.
            ["RAPID_REFERENCE_GRID"] = TinySurvey.ReferenceGrid.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) variables[key] = value;
        return LocalStateMachine.Execute(stack, definition, input,
            new LocalStateMachine.Options(survey.Home.StoreRoot, survey.OwnerConnectionString, variables, KillFirstChild: killFirstChild,
                ExecutionName: executionName, StateMachine: workflow));
    }

    private static int Int(JsonNode node, string name) => node[name]?.GetValue<int>() ?? throw new KeyNotFoundException($"{name} not in {node.ToJsonString()}");

    private sealed record JobRow(long Jid, int Ppid, int Status, int? ExitCode, string? Reason);

    private static async Task<List<JobRow>> Jobs(TinySurvey survey)
    {
        await using var conn = await survey.Database.OpenConnectionAsync();
        return (await conn.QueryAsync<JobRow>("select jid, ppid::int as ppid, status::int as status, exitcode, reason from jobs order by jid")).ToList();
    }
}
