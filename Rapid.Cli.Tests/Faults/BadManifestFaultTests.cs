using System.Text.Json.Nodes;
using Dapper;
using Rapid.Cli.Engine;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;
using Xunit.Abstractions;

namespace Rapid.Cli.Tests.Faults;

/// <summary>
/// The fault suite's bad manifests: in a real night, each job's manifest is replaced, just before its stage registers,
/// by one with one bad field (a product key with "..", "//" or another bucket, a negative size, NaN or Infinity, an exit
/// code no job ends with, a negative run time, attempt 0) while one job per stage keeps its own, and a good one is copied to a
/// key no job writes to. Each bad manifest
/// closes its job as failed with a reason naming the field and registers nothing; the rest of the night goes on; the
/// re-run completes the night.
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class BadManifestFaultTests(EmbeddedDatabaseFixture fixture, ITestOutputHelper output)
{
    private const string ProcDate = "20280910";

    /// <summary>One bad field: where it is (as the rejection names it) and how it is spoiled in the manifest's JSON.</summary>
    private sealed record Spoil(string Field, Action<JsonObject, string> Apply);

    private static JsonObject Product(JsonObject m, string role) =>
        m["products"]!.AsArray().Select(p => p!.AsObject()).First(p => p["role"]!.GetValue<string>() == role);

    private static readonly Spoil[] ScienceSpoils =
    [
        new("products", (m, prefix) => Product(m, "diffimage")["file"] = $"{prefix}../jid1/diffimage.fits"),
        new("products", (m, prefix) => Product(m, "diffimage")["file"] = $"{prefix}/diffimage.fits"),
        new("products", (m, _) => Product(m, "diffimage")["file"] = "s3://rapid-pipeline-files/20280910/evil/diffimage.fits"),
        new("products", (m, _) => Product(m, "sources")["checksum"]!["sizeBytes"] = -1),
        new("outcome", (m, _) => m["outcome"]!["difference"]!["scaleFactor"] = "NaN"),
    ];

    private static readonly Spoil[] ReferenceSpoils =
    [
        new("outcome", (m, _) => m["outcome"]!["reference"]!["cov5Percent"] = "Infinity"),
        new("exitCode", (m, _) => m["exitCode"] = 300),
        new("exitCode", (m, _) => m["exitCode"] = ExitCodes.Lost),
        new("ended", (m, _) => m["ended"] = "2028-09-10T00:00:00+00:00"),
        new("batch.attempt", (m, _) => m["batch"]!["attempt"] = 0),
    ];

    [Fact]
    public async Task Each_bad_manifest_fails_its_job_naming_the_field_registers_nothing_and_the_re_run_completes_the_night()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 6, fields: 6, seed: 83);
        var store = survey.Home.OpenStore();
        var spoiled = new Dictionary<long, string>();
        async Task SpoilAsync(int ppid, Spoil[] spoils)
        {
            await using var conn = await survey.Database.OpenConnectionAsync();
            var jobs = (await conn.QueryAsync<(long Jid, string Manifest)>(
                "select jid, manifest_key from jobs where ppid = @ppid and status = 0 order by jid", new { ppid })).ToList();
            Assert.Equal(spoils.Length + 1, jobs.Count); // the last job's manifest stays good: its stage goes on
            foreach (var ((jid, key), spoil) in jobs.Zip(spoils))
            {
                var manifest = ObjectRef.Parse(key);
                var json = JsonNode.Parse(await store.GetBytesAsync(manifest))!.AsObject();
                spoil.Apply(json, $"s3://{manifest.Bucket}/{ObjectKeys.JobPrefix(ProcessingDate.Parse(ProcDate), jid)}");
                await store.PutBytesAsync(manifest, System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()));
                spoiled[jid] = spoil.Field;
            }
        }
        var observer = new StageHooks(new()
        {
            [WorkflowStage.RegisterReferences] = () => SpoilAsync(12, ReferenceSpoils).GetAwaiter().GetResult(),
            [WorkflowStage.RegisterScience] = () => SpoilAsync(15, ScienceSpoils).GetAwaiter().GetResult(),
        });

        var faulted = await survey.Workflow().Create().RunAsync(survey.LastNight(ProcDate), observer);

        Assert.Equal(10, spoiled.Count);
        await using (var conn = await survey.Database.OpenConnectionAsync())
        {
            foreach (var (jid, field) in spoiled)
            {
                var job = await conn.QuerySingleAsync<(int Status, int ExitCode, string Reason)>(
                    "select status::int, exitcode, reason from jobs where jid = @jid", new { jid });
                Assert.True(job is { Status: 1, ExitCode: ExitCodes.InvalidManifest } && job.Reason.Contains(field),
                    $"job {jid} spoiled at {field}: {job.Status} {job.ExitCode} {job.Reason}");
                Assert.Equal(0, await conn.ExecuteScalarAsync<int>("""
                    select (select count(*) from jobproducts where jid = @jid) + (select count(*) from diffimages where jid = @jid)
                         + (select count(*) from refimages where jid = @jid)
                    """, new { jid }));
            }
        }
        Assert.True(faulted.FailedJobs >= 10);
        var state = await NightState.MeasureAsync(survey.Database, store);
        output.WriteLine($"after 10 bad manifests: {state}");
        Assert.Equal((0, 0, 0, 0, 0), (state.OpenJobs, state.DuplicateKeys, state.ChecksumMismatches, state.RevertedStamps, state.DanglingLineage));

        // A good manifest copied to a key no job writes to (the streaming path's input) is refused and changes nothing.
        await using (var conn = await survey.Database.OpenConnectionAsync())
        {
            var (jid, key) = await conn.QueryFirstAsync<(long, string)>("select jid, manifest_key from jobs where ppid = 17 and status = 1 order by jid");
            var evil = new ObjectRef(Buckets.Default.Products, $"evil/x/manifest_jid{jid}.json");
            await store.PutBytesAsync(evil, await store.GetBytesAsync(ObjectRef.Parse(key)));
            var before = await NightState.MeasureAsync(survey.Database, store);
            var report = await new RegisterCompletedJobs(survey.Database, store, new ObjectKeys(Buckets.Default)).RegisterManifestAsync(evil);
            Assert.Equal(0, report.Registered);
            Assert.Contains(report.Failures, f => f.Message.Contains("belongs at"));
            Assert.Equal(before, await NightState.MeasureAsync(survey.Database, store));
        }

        var rerun = await survey.Workflow().Create().RunAsync(survey.LastNight(ProcDate), SilentObserver.Instance);
        Assert.Equal(0, rerun.FailedJobs);
        var after = await NightState.MeasureAsync(survey.Database, store);
        output.WriteLine($"after the re-run: {after}");
        Assert.True(after.Survived, after.ToString());
        Assert.Equal(6, after.DifferenceImages);
    }

    /// <summary>Runs an action when a stage starts (once per stage).</summary>
    private sealed class StageHooks(Dictionary<WorkflowStage, Action> actions) : IWorkflowObserver
    {
        public void StageStarted(WorkflowStage stage, int workItems)
        {
            if (actions.Remove(stage, out var action)) action();
        }

        public void WorkItemDone(WorkflowStage stage, ChildOutcome? outcome) { }
        public void StageFinished(WorkflowStage stage, TimeSpan elapsed, string outcome) { }
    }
}
