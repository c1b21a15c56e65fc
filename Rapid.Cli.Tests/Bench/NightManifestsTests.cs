using Dapper;
using Rapid.Cli.Bench;
using Rapid.Cli.Engine;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;
using Rapid.Pipeline.Jobs;

namespace Rapid.Cli.Tests.Bench;

/// <summary>
/// <c>rapid bench ops</c> times registration on the manifests <see cref="NightManifests"/> builds: they must be the
/// manifests the pipeline's jobs write. Compared here with those of a real night (real simulator, pipeline processes):
/// the same product roles and keys, the same outcome with the same sections, the same steps in the timeline; and the
/// bench itself runs on a few jobs, registering every stage without a failure.
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class NightManifestsTests(EmbeddedDatabaseFixture fixture)
{
    [Fact]
    public async Task The_bench_manifests_are_shaped_like_the_ones_a_real_night_writes()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 6, seed: 79);
        var report = await survey.Workflow().Create().RunAsync(survey.LastNight("20280910"), SilentObserver.Instance);
        Assert.Equal(0, report.FailedJobs);
        var store = survey.Home.OpenStore();
        var keys = new ObjectKeys(Buckets.Default);
        await using var conn = await survey.Database.OpenConnectionAsync();
        var jobs = (await conn.QueryAsync<(long Jid, short Ppid, string Config, string Manifest)>(
            "select jid, ppid, config_key, manifest_key from jobs order by jid")).ToList();
        Assert.Equal([12, 15, 17, 17, 18], jobs.Select(j => (int)j.Ppid));

        foreach (var job in jobs)
        {
            var configBytes = await store.GetBytesAsync(ObjectRef.Parse(job.Config));
            var config = Contract.Deserialize<JobConfig>(configBytes, job.Config);
            var real = await Contract.ReadAsync<ProductManifest>(store, ObjectRef.Parse(job.Manifest));
            var bench = NightManifests.Success(config, real.ConfigSha256, keys, real.Started);
            var what = $"ppid {job.Ppid} job {job.Jid}";

            Assert.Equal(real.Products.Select(p => (p.Role, p.File)).Order(), bench.Products.Select(p => (p.Role, p.File)).Order());
            Assert.Equal(real.Outcome!.GetType(), bench.Outcome!.GetType());
            Assert.True(real.Timeline.Select(s => s.Name).ToHashSet().SetEquals(bench.Timeline.Select(s => s.Name)),
                $"{what}: real steps {string.Join(", ", real.Timeline.Select(s => s.Name).Distinct())}; bench {string.Join(", ", bench.Timeline.Select(s => s.Name))}");
            Assert.Equal(real.Settings is null, bench.Settings is null);
            switch ((real.Outcome, bench.Outcome))
            {
                case (ScienceOutcome r, ScienceOutcome b):
                    Assert.Equal(r.CoaddedReference is null, b.CoaddedReference is null);
                    Assert.NotNull(r.InjectionRecovery);
                    Assert.NotNull(b.InjectionRecovery);
                    Assert.Equal(r.InjectionRecovery!.Seed, b.InjectionRecovery!.Seed);
                    Assert.Equal(r.Difference.Rid, b.Difference.Rid);
                    Assert.Equal(r.Difference.Rfid, b.Difference.Rfid);
                    Assert.Equal(r.Difference.CornersRaDec.Count, b.Difference.CornersRaDec.Count);
                    break;
                case (PostProcessingOutcome r, PostProcessingOutcome b):
                    Assert.Equal(r.Stamped.Select(s => (s.Role, s.Source, s.File)).Order(), b.Stamped.Select(s => (s.Role, s.Source, s.File)).Order());
                    break;
                case (NightRecoveryOutcome r, NightRecoveryOutcome b):
                    Assert.Equal(r.Tables, b.Tables);
                    // The simulator's transients (scored from its truth catalogs) exist on simulated nights only.
                    Assert.Equal(r.Filters.Where(f => f.Kind == RecoveryMeasurementStep.FakeKind).Select(f => (f.Fid, f.Filter)),
                        b.Filters.Select(f => (f.Fid, f.Filter)));
                    break;
            }
        }
    }

    [Fact]
    public async Task The_ops_bench_registers_every_stage_of_a_small_night_without_a_failure()
    {
        var home = new Embedded.RapidHome(Path.Combine(Path.GetTempPath(), $"rapid-bench-{Guid.NewGuid():N}"[..26]));
        try
        {
            var report = await OpsBenchmark.RunAsync(await fixture.CreateDatabaseAsync(), home.OpenStore(), jobs: 40, extraIngest: 100);

            Assert.Equal(40, report.Step(OpsBenchmark.PlanScience).Count);
            Assert.Equal(40, report.Step(OpsBenchmark.RegisterScience).Count);
            Assert.Equal(40, report.Step(OpsBenchmark.RegisterScienceAgain).Count); // all unchanged
            // Post-processing stamps every science job and every reference of the night.
            Assert.InRange(report.Step(OpsBenchmark.PlanPostProcessing).Count, 41, 80);
            Assert.Equal(report.Step(OpsBenchmark.PlanPostProcessing).Count, report.Step(OpsBenchmark.RegisterPostProcessing).Count);
            Assert.Equal(1, report.Step(OpsBenchmark.RegisterNightRecovery).Count);
            Assert.Equal(100, report.Step(OpsBenchmark.ExtraIngest).Count);
            Assert.InRange(report.ManifestBytes, 2_000, 100_000);
        }
        finally
        {
            try { Directory.Delete(home.Path, recursive: true); } catch (IOException) { }
        }
    }
}
