using System.Text.Json.Nodes;
using Dapper;
using Rapid.Cdk.Tests.Support;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;

namespace Rapid.Cdk.Tests;

/// <summary>
/// The deployed definition, extracted from the synthesized template and validated with asl-validator,
/// run by aws-local-stepfunctions: every Lambda task is the real handler (named by the template's
/// Handler, with the template's environment) on a private PostgreSQL and a directory object store,
/// every Batch task the local executor running the pipeline's entry point. Assertions are on the
/// database and on the execution (its output and the states it went through), not on logs.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class LocalStateMachineRunTests(DefaultStack stack, EmbeddedDatabaseFixture database)
    : IClassFixture<EmbeddedDatabaseFixture>
{
    private const string ProcDate = "20280910";

    [Fact]
    public async Task A_tiny_night_goes_through_references_science_and_post_processing_to_the_summary()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 6);

        var run = Execute(survey, survey.LastNight(ProcDate));

        Assert.True(run.Status == "SUCCEEDED", $"{run.Status}: {run.Error} {run.Cause}\n{run.Log}");
        // One reference and one science image: single jobs; two post-processing jobs: an array job.
        foreach (var state in new[]
                 {
                     "ResolveWindow", "PlanReferences", "RunReferencesSingle", "ReferencesRan", "RegisterReferences",
                     "PlanScience", "RunScienceSingle", "ScienceRan", "RegisterScience",
                     "PlanPostProc", "RunPostProcArray", "PostProcRan", "RegisterPostProc", "Summarize", "NotifyNight",
                 })
            Assert.True(run.Entered(state), $"{state} not entered; went through {string.Join(", ", run.States)}\n{run.Log}");

        var jobs = await Jobs(survey);
        Assert.Single(jobs, j => j.Ppid == PipelineIds.ReferenceImage);
        Assert.Single(jobs, j => j.Ppid == PipelineIds.Science);
        Assert.Equal(2, jobs.Count(j => j.Ppid == PipelineIds.PostProcessing));
        // The night's injection-recovery job runs in the post-processing array.
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
        Assert.Equal(3, Int(output["postProcessing"]!["registered"]!, "registered"));   // two ppid 17, one ppid 18
        Assert.False(output["science"]!["run"]!["failed"]!.GetValue<bool>());
        var notification = Assert.Single(run.Notifications);
        Assert.Equal($"Rapid night {ProcDate} processed", notification["Subject"]!.GetValue<string>());
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
        foreach (var stage in new[] { "References", "Science", "PostProc" })
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
    /// The Map over chunks is reached only above 10,000 jobs in a stage, out of reach here. So the plan is
    /// made by the real step class with chunks of at most 4 jobs, and the run starts at the deployed Map
    /// state (the definition pruned to what is reachable from it, and validated again): the Map, its
    /// ItemSelector, the per-chunk Catch and registration of every chunk run as deployed, then the rest of
    /// the night. One chunk fails (a corrupt reference input): the other chunk still runs.
    /// </summary>
    [Fact]
    public async Task Chunks_above_the_array_limit_run_through_the_map_and_a_failed_chunk_does_not_stop_the_others()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 4, fields: 5, seed: 23);
        var corrupt = survey.Survey.Images.Where(i => i.FieldIndex == 0).MinBy(i => i.DateObsUtc)!;
        await File.WriteAllTextAsync(corrupt.Path, "SIMPLE  =                    T / but the rest is missing");
        var window = survey.LastNight(ProcDate);
        var resolved = new ResolveWindow().Resolve(window);
        var plan = await new PlanReferenceImages(survey.Database, survey.Home.OpenStore(), new ObjectKeys(Buckets.Default),
            new PlanningOptions { TileNaxis1 = TinySurvey.ReferenceGrid, TileNaxis2 = TinySurvey.ReferenceGrid, MaxArraySize = 4 })
            .PlanAsync(resolved.Window, resolved.ProcDate);
        Assert.Equal([3, 2], plan.Chunks!.Select(c => c.ArraySize));

        var definition = DefinitionStartingAt(StateMachineDefinition.Parse(stack), "RunReferencesChunks");
        var input = new JsonObject
        {
            ["night"] = new JsonObject
            {
                ["startDateTime"] = window.StartDateTime, ["endDateTime"] = window.EndDateTime, ["procDate"] = ProcDate, ["force"] = false,
            },
            ["references"] = new JsonObject
            {
                ["plan"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(plan, Rapid.Functions.Lambda.LambdaJsonContext.Default.PlanResult)),
            },
        };
        var run = Execute(survey, definition, input);

        Assert.True(run.Status == "SUCCEEDED", $"{run.Status}: {run.Error} {run.Cause}\n{run.Log}");
        Assert.Equal(2, run.States.Count(s => s == "RunReferencesChunk"));
        Assert.True(run.Entered("ReferencesChunkFailed") && run.Entered("ReferencesChunkRan") && run.Entered("RegisterReferences"),
            string.Join(", ", run.States));
        var references = run.Output!["references"]!;
        var chunks = references["run"]!["chunks"]!.AsArray();
        Assert.Equal(2, chunks.Count);
        var failedChunk = Assert.Single(chunks, c => c!["failed"]!.GetValue<bool>());
        Assert.Equal("States.TaskFailed", failedChunk!["error"]!.GetValue<string>());
        Assert.True(references["registered"]!["runFailed"]!.GetValue<bool>());
        Assert.Equal(5, Int(references["registered"]!, "registered"));

        // The corrupt image is an input of every reference tile it overlaps: those jobs fail, all in the failed chunk.
        var referenceJobs = (await Jobs(survey)).Where(j => j.Ppid == PipelineIds.ReferenceImage).ToList();
        Assert.Equal(5, referenceJobs.Count);
        var failed = referenceJobs.Where(j => ExitCodes.Severity(j.ExitCode ?? ExitCodes.Lost) == ExitCodeSeverity.Error).ToList();
        Assert.NotEmpty(failed);
        Assert.All(failed, j => Assert.Contains(Path.GetFileName(corrupt.Path), j.Reason));
        var chunkJids = new List<HashSet<long>>();
        foreach (var chunk in plan.Chunks!)
            chunkJids.Add((await Rapid.Core.Contracts.Contract.ReadAsync<Rapid.Core.Contracts.JobList>(survey.Home.OpenStore(), chunk.JobList)).Jobs.Select(j => j.Jid).ToHashSet());
        var failedIndex = chunks.IndexOf(failedChunk);
        Assert.All(failed, j => Assert.Contains(j.Jid, chunkJids[failedIndex]));
        Assert.All(referenceJobs.Where(j => chunkJids[1 - failedIndex].Contains(j.Jid)),
            j => Assert.True(j is { Status: 1, ExitCode: 0 or ExitCodes.Degraded }, $"job {j.Jid} ended {j.ExitCode}: {j.Reason}"));
        Assert.Equal(5 - failed.Count, Int(run.Output!["summary"]!, "referenceImages"));
        Assert.True(run.Entered("Summarize"));
    }

    /// <summary>The definition from <paramref name="state"/> on: the states reachable from it (by Next, Default, Choices and Catch).</summary>
    private static string DefinitionStartingAt(JsonObject definition, string state)
    {
        var states = definition["States"]!.AsObject();
        var reachable = new HashSet<string>();
        var pending = new Stack<string>([state]);
        while (pending.TryPop(out var name))
        {
            if (!reachable.Add(name)) continue;
            var s = states[name]!;
            var targets = new[] { s["Next"], s["Default"] }
                .Concat(s["Choices"]?.AsArray().Select(c => c!["Next"]) ?? [])
                .Concat(s["Catch"]?.AsArray().Select(c => c!["Next"]) ?? []);
            foreach (var t in targets.OfType<JsonNode>()) pending.Push(t.GetValue<string>());
        }
        foreach (var name in states.Select(kv => kv.Key).Where(n => !reachable.Contains(n)).ToList()) states.Remove(name);
        definition["StartAt"] = state;
        return definition.ToJsonString();
    }

    private LocalStateMachine.Run Execute(TinySurvey survey, WindowRequest window) =>
        Execute(survey, StateMachineDefinition.Extract(stack), new JsonObject
        {
            ["startDateTime"] = window.StartDateTime, ["endDateTime"] = window.EndDateTime, ["procDate"] = window.ProcDate,
        });

    private LocalStateMachine.Run Execute(TinySurvey survey, string definition, JsonObject input)
    {
        var validation = AslValidator.Validate(definition);
        Assert.True(validation.ExitCode == 0, validation.Output);

        var environment = new Dictionary<string, string>(Buckets.Default.AsEnvironment())
        {
            // The tiny survey's images are 192 px: reference tiles of 256 px, as the Cli tests use.
            ["RAPID_REFERENCE_GRID"] = TinySurvey.ReferenceGrid.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return LocalStateMachine.Execute(stack, definition, input,
            new LocalStateMachine.Options(survey.Home.StoreRoot, survey.Database.ConnectionString, environment));
    }

    private static int Int(JsonNode node, string name) => node[name]?.GetValue<int>() ?? throw new KeyNotFoundException($"{name} not in {node.ToJsonString()}");

    private sealed record JobRow(long Jid, int Ppid, int Status, int? ExitCode, string? Reason);

    private static async Task<List<JobRow>> Jobs(TinySurvey survey)
    {
        await using var conn = await survey.Database.OpenConnectionAsync();
        return (await conn.QueryAsync<JobRow>("select jid, ppid::int as ppid, status::int as status, exitcode, reason from jobs order by jid")).ToList();
    }
}
