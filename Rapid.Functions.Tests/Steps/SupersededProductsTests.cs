using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

/// <summary>
/// No product is stored twice: once post-processing's stamped copies are registered and verified in the store, the
/// unstamped originals they supersede are deleted and the bytes saved are recorded; nothing is deleted when a copy is
/// missing, when the source job is open again, or when the manifest is registered again.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class SupersededProductsTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    private readonly List<ProductManifest> _originals = [];

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(230, -50));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 3);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: 6);
        foreach (var plan in new[] { await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate), null })
        {
            var p = plan ?? await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
            foreach (var c in await _w.ConfigsAsync(p))
            {
                var m = await _w.WriteSuccessManifestAsync(c);
                await _w.WriteProductFilesAsync(m);
                _originals.Add(m);
            }
            Assert.Empty((await _w.Register.RegisterJobListAsync(p.JobList!)).Failures);
        }
    }

    public async Task DisposeAsync() => await _w.DisposeAsync();

    private IEnumerable<ProductFile> OriginalFiles => _originals.SelectMany(m => m.Products);

    /// <summary>Post-processing planned and run: its manifests and stamped copies written (all of them, or not the one skipped).</summary>
    private async Task<PlanResult> PostProcessAsync(Func<StampedProduct, bool>? write = null)
    {
        var plan = await _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate);
        foreach (var c in await _w.ConfigsAsync(plan))
        {
            var m = await _w.WriteSuccessManifestAsync(c);
            foreach (var s in ((PostProcessingOutcome)m.Outcome!).Stamped.Where(s => write?.Invoke(s) ?? true))
                await _w.Store.PutBytesAsync(s.File, OpsWorld.StampedContent(s.File));
        }
        return plan;
    }

    [Fact]
    public async Task An_injection_recovery_table_is_kept_while_the_nights_recovery_job_that_may_read_it_is_open()
    {
        var science = _originals.Single(m => m.Ppid == 15);
        var table = _w.Product(OpsWorld.ProcDate, science.Jid, ProductRoles.InjectionRecovery, "injrecov.fits");
        var withTable = science with
        {
            Products = [.. science.Products, table],
            Outcome = (ScienceOutcome)science.Outcome! with
            {
                InjectionRecovery = new InjectionRecoveryResult
                {
                    Seed = 1, PsfSource = "model", MatchRadiusPixels = 1, AreaDeg2 = 0.01, Fakes = new RecoveryFigures { Injected = 4, Found = 2 },
                },
            },
            Started = DateTimeOffset.UtcNow, Ended = DateTimeOffset.UtcNow.AddSeconds(1),
        };
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, science.Jid), withTable);
        await _w.WriteProductFilesAsync(withTable);
        Assert.Empty((await _w.Register.RegisterAsync([(science.Jid, _w.Keys.Manifest(OpsWorld.ProcDate, science.Jid))])).Failures);
        // As the PlanPostProc Lambda plans today: the night's recovery job in the same array, open while the array runs.
        var plan = await new Rapid.Functions.Steps.PlanPostProcessing(_w.DataSource, _w.Store, _w.Keys, _w.Options).PlanWithNightRecoveryAsync(OpsWorld.ProcDate);
        foreach (var c in (await _w.ConfigsAsync(plan)).Where(c => c.Spec is PostProcessingSpec))
            await _w.WriteProductFilesAsync(await _w.WriteSuccessManifestAsync(c));

        var report = await _w.Register.RegisterAsync([.. (await _w.ConfigsAsync(plan)).Where(c => c.Spec is PostProcessingSpec)
            .Select(c => (c.Jid, _w.Keys.Manifest(OpsWorld.ProcDate, c.Jid)))]);

        Assert.True(File.Exists(_w.Store.PathOf(table.File)), "the table the open recovery job reads was deleted");
        Assert.Equal(OriginalFiles.Count(), report.SupersededDeleted);
    }

    private async Task<(int Registered, int Deleted)> RegisteredAndDeletedAsync(PlanResult plan)
    {
        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);
        return (report.Registered, report.SupersededDeleted);
    }

    [Fact]
    public async Task Registered_and_verified_stamped_copies_replace_the_originals_which_are_deleted_with_the_bytes_saved_recorded()
    {
        var originals = OriginalFiles.ToList();
        Assert.All(originals, f => Assert.True(File.Exists(_w.Store.PathOf(f.File))));

        var plan = await PostProcessAsync();
        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);

        Assert.Equal(originals.Count, report.SupersededDeleted);
        Assert.Equal(originals.Sum(f => f.Checksum.SizeBytes), report.SupersededBytes);
        Assert.Empty(report.SupersededKept);
        Assert.All(originals, f => Assert.False(File.Exists(_w.Store.PathOf(f.File)), $"{f.File} is still stored"));
        // Every registered product file is in the store, exactly as registered.
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        foreach (var (file, size, sha) in await conn.QueryAsync<(string, long, string)>("select filename, sizebytes, sha256 from jobproducts"))
            Assert.Equal((size, sha), (new FileInfo(_w.Store.PathOf(ObjectRef.Parse(file))).Length, FileChecksum.Of(_w.Store.PathOf(ObjectRef.Parse(file))).Sha256));
        var summary = await _w.Summarize.SummarizeAsync(OpsWorld.ProcDate);
        Assert.Equal((originals.Count, originals.Sum(f => f.Checksum.SizeBytes)), (summary.SupersededFilesDeleted, summary.SupersededBytesDeleted));

        // Registered again: nothing else is deleted. Forced, post-processing stamps its copies again in place (same keys).
        Assert.Equal((0, 0), await RegisteredAndDeletedAsync(plan));
        _w.Options = _w.Options with { Force = true };
        Assert.Equal((2, 0), await RegisteredAndDeletedAsync(await PostProcessAsync()));
        Assert.All(await conn.QueryAsync<string>("select filename from jobproducts"), f => Assert.True(File.Exists(_w.Store.PathOf(ObjectRef.Parse(f)))));
    }

    [Fact]
    public async Task A_stamped_copy_missing_from_the_store_keeps_its_original_and_says_so()
    {
        var missing = default(ObjectRef);
        var plan = await PostProcessAsync(s =>
        {
            if (s.Role != ProductRoles.DifferenceImage) return true;
            missing = s.File;
            return false;
        });

        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);

        var kept = Assert.Single(report.SupersededKept);
        Assert.Contains(missing!.ToString(), kept.Message);
        var original = OriginalFiles.Single(f => f.Role == ProductRoles.DifferenceImage).File;
        Assert.True(File.Exists(_w.Store.PathOf(original)));
        Assert.Equal(OriginalFiles.Count() - 1, report.SupersededDeleted);
    }

    [Fact]
    public async Task Nothing_is_deleted_while_the_source_job_is_open_again_for_a_rerun()
    {
        var plan = await PostProcessAsync();
        _w.Options = _w.Options with { Force = true };
        await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);   // the science job reopened: its re-run may be writing its keys

        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);

        var science = _originals.Single(m => m.Ppid == 15);
        Assert.All(science.Products, f => Assert.True(File.Exists(_w.Store.PathOf(f.File)), $"{f.File} was deleted"));
        Assert.Equal(_originals.Single(m => m.Ppid == 12).Products.Count, report.SupersededDeleted);
    }
}
