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
    public async Task An_injection_recovery_table_is_kept_while_a_recovery_job_that_may_read_it_is_open_and_deleted_once_it_is_registered()
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
        // The night's recovery job planned before post-processing is registered: it reads the unstamped table.
        var recovery = Assert.Single(await _w.ConfigsAsync(await _w.PlanNight.PlanAsync(OpsWorld.ProcDate)));
        Assert.Equal(table.File, Assert.Single(((NightRecoverySpec)recovery.Spec).Tables).File);

        var plan = await PostProcessAsync();
        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);

        Assert.True(File.Exists(_w.Store.PathOf(table.File)), "the table the open recovery job reads was deleted");
        Assert.Equal(OriginalFiles.Count(), report.SupersededDeleted);

        await _w.WriteSuccessManifestAsync(recovery);
        var closed = await _w.Register.RegisterAsync([(recovery.Jid, _w.Keys.Manifest(OpsWorld.ProcDate, recovery.Jid))]);

        Assert.Equal((1, 1, table.Checksum.SizeBytes), (closed.Registered, closed.SupersededDeleted, closed.SupersededBytes));
        Assert.False(File.Exists(_w.Store.PathOf(table.File)), "the table was kept after the recovery job that read it was registered");
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
        // The file registry keeps them, marked deleted.
        Assert.Equal(originals.Count, await conn.ExecuteScalarAsync<int>("select count(*) from files where uri = any(@uris) and status = 'deleted'",
            new { uris = originals.Select(f => f.File.ToString()).ToArray() }));

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

    [Fact]
    public async Task Files_left_queued_by_a_registration_that_ended_before_its_deletions_go_when_the_manifest_is_registered_again()
    {
        var plan = await PostProcessAsync();
        var refusing = new RefusingDeletes(_w.Store);
        var register = new Rapid.Functions.Steps.RegisterCompletedJobs(_w.DataSource, refusing, _w.Keys);

        var first = await register.RegisterJobListAsync(plan.JobList!);

        Assert.Equal((2, 0), (first.Registered, first.SupersededDeleted));
        Assert.Equal(OriginalFiles.Count(), first.SupersededKept.Count);
        Assert.All(first.SupersededKept, k => Assert.Contains("still queued", k.Message));
        Assert.All(OriginalFiles, f => Assert.True(File.Exists(_w.Store.PathOf(f.File))));

        // A retried Register (an SQS redelivery, the next run): the manifests are unchanged, the queued files go.
        var again = await _w.Register.RegisterJobListAsync(plan.JobList!);

        Assert.Equal((0, 2), (again.Registered, again.Unchanged));
        Assert.Equal((OriginalFiles.Count(), OriginalFiles.Sum(f => f.Checksum.SizeBytes)), (again.SupersededDeleted, again.SupersededBytes));
        Assert.All(OriginalFiles, f => Assert.False(File.Exists(_w.Store.PathOf(f.File)), $"{f.File} is still stored"));
        var summary = await _w.Summarize.SummarizeAsync(OpsWorld.ProcDate);
        Assert.Equal(OriginalFiles.Sum(f => f.Checksum.SizeBytes), summary.SupersededBytesDeleted);
        Assert.Equal(0, (await _w.Register.RegisterJobListAsync(plan.JobList!)).SupersededDeleted);
    }

    [Fact]
    public async Task Copies_stamped_before_their_source_job_ran_again_are_not_registered_and_the_rerun_s_products_are_kept()
    {
        var plan = await PostProcessAsync();
        // The science job planned again, re-run and registered before post-processing's registration: its re-run wrote
        // the same keys, so its products are registered under the names the stale copies were stamped from.
        _w.Options = _w.Options with { Force = true };
        var science = Assert.Single(await _w.ConfigsAsync(await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate)));
        await _w.WriteProductFilesAsync(await _w.WriteSuccessManifestAsync(science));
        Assert.Equal(1, (await _w.Register.RegisterAsync([(science.Jid, _w.Keys.Manifest(OpsWorld.ProcDate, science.Jid))])).Registered);

        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);

        Assert.Equal(_originals.Single(m => m.Ppid == 12).Products.Count, report.SupersededDeleted);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from jobproducts where jid = @Jid and stamped_by is not null", new { science.Jid }));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from diffimages where filename not like '%/jid' || jid || '/%'"));
        Assert.All(await conn.QueryAsync<string>("select filename from jobproducts"), f => Assert.True(File.Exists(_w.Store.PathOf(ObjectRef.Parse(f))), $"{f} was deleted"));
        _w.Options = _w.Options with { Force = false };
        Assert.Equal(1, (await _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate)).ArraySize);
    }

    /// <summary>A store whose deletions are refused (as S3 answers AccessDenied), everything else as the one given.</summary>
    private sealed class RefusingDeletes(IObjectStore inner) : IObjectStore
    {
        public Task PutFileAsync(ObjectRef target, string localPath, CancellationToken ct = default) => inner.PutFileAsync(target, localPath, ct);
        public Task PutBytesAsync(ObjectRef target, ReadOnlyMemory<byte> content, CancellationToken ct = default) => inner.PutBytesAsync(target, content, ct);
        public Task GetFileAsync(ObjectRef source, string localPath, CancellationToken ct = default) => inner.GetFileAsync(source, localPath, ct);
        public Task<byte[]> GetBytesAsync(ObjectRef source, CancellationToken ct = default) => inner.GetBytesAsync(source, ct);
        public Task<bool> ExistsAsync(ObjectRef source, CancellationToken ct = default) => inner.ExistsAsync(source, ct);
        public Task<long> SizeAsync(ObjectRef source, CancellationToken ct = default) => inner.SizeAsync(source, ct);
        public IAsyncEnumerable<ObjectRef> ListAsync(string bucket, string prefix, CancellationToken ct = default) => inner.ListAsync(bucket, prefix, ct);
        public Task DeleteAsync(ObjectRef target, CancellationToken ct = default) => throw new UnauthorizedAccessException($"Access Denied: {target}");
    }
}
