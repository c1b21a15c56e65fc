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

    private static string SecretArn(SynthesizedStack stack, string username) =>
        $"arn:aws:secretsmanager:{SynthesizedStack.Region}:{SynthesizedStack.Account}:secret:" +
        stack.Resources("AWS::SecretsManager::Secret").Single(s =>
            s.Resource["Properties"]!["GenerateSecretString"]?["SecretStringTemplate"]?.GetValue<string>() == $"{{\"username\":\"{username}\"}}").Id;

    private LocalStateMachine.Run Execute(TinySurvey survey, WindowRequest window) => Execute(stack, survey, window);

    private static LocalStateMachine.Run Execute(SynthesizedStack stack, TinySurvey survey, WindowRequest window)
    {
        var definition = StateMachineDefinition.Extract(stack);
        var validation = AslValidator.Validate(definition);
        Assert.True(validation.ExitCode == 0, validation.Output);

        var input = new JsonObject { ["startDateTime"] = window.StartDateTime, ["endDateTime"] = window.EndDateTime, ["procDate"] = window.ProcDate };
        var environment = new Dictionary<string, string>
        {
            // The tiny survey's images are 192 px: reference tiles of 256 px, as the Cli tests use.
            ["RAPID_REFERENCE_GRID"] = TinySurvey.ReferenceGrid.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return LocalStateMachine.Execute(stack, definition, input,
            new LocalStateMachine.Options(survey.Home.StoreRoot, survey.OwnerConnectionString, environment));
    }

    private static int Int(JsonNode node, string name) => node[name]?.GetValue<int>() ?? throw new KeyNotFoundException($"{name} not in {node.ToJsonString()}");

    private sealed record JobRow(long Jid, int Ppid, int Status, int? ExitCode, string? Reason);

    private static async Task<List<JobRow>> Jobs(TinySurvey survey)
    {
        await using var conn = await survey.Database.OpenConnectionAsync();
        return (await conn.QueryAsync<JobRow>("select jid, ppid::int as ppid, status::int as status, exitcode, reason from jobs order by jid")).ToList();
    }
}
