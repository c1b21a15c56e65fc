using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

[Collection(OpsDatabaseCollection.Name)]
public sealed class PlanPostProcessingTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    /// <summary>Reference and science jobs of the night, run (manifests written) and registered.</summary>
    private async Task<(JobConfig Reference, JobConfig Science)> NightAsync()
    {
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(250, 60));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 3);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: 5);
        var refPlan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var reference = Assert.Single(await _w.ConfigsAsync(refPlan));
        await _w.WriteSuccessManifestAsync(reference);
        await _w.Register.RegisterJobListAsync(refPlan.JobList!);
        var sciPlan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var science = Assert.Single(await _w.ConfigsAsync(sciPlan));
        await _w.WriteSuccessManifestAsync(science);
        await _w.Register.RegisterJobListAsync(sciPlan.JobList!);
        return (reference, science);
    }

    [Fact]
    public async Task Plans_one_stamping_job_per_job_with_registered_products_with_ids_and_canonical_names()
    {
        var (reference, science) = await NightAsync();

        var plan = await _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate);

        var configs = await _w.ConfigsAsync(plan);
        Assert.Equal(2, configs.Count);
        Assert.All(configs, c => Assert.Equal(17, c.Ppid));
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var rf = await conn.QuerySingleAsync<(long Rfid, long Field, short Fid, int Version)>(
            "select rfid, field, fid, version from refimages where jid = @Jid", new { reference.Jid });
        var refPost = configs.Single(c => c.SpecAs<PostProcessingSpec>().SourceJid == reference.Jid);
        var refImage = refPost.SpecAs<PostProcessingSpec>().Products.Single(p => p.Role == ProductRoles.ReferenceImage);
        Assert.Equal(rf.Rfid.ToString(), refImage.Keywords["RFID"]);
        Assert.Equal("1", refImage.Keywords["RFIMVER"]);
        Assert.Equal(_w.Keys.Product(OpsWorld.ProcDate, refPost.Jid, CanonicalNames.ReferenceImage(rf.Field, rf.Fid, 12, 1, rf.Rfid)), refImage.Target);
        Assert.Equal(4, refPost.SpecAs<PostProcessingSpec>().Products.Count);

        var d = await conn.QuerySingleAsync<(long Pid, long Rid, long Expid)>("select pid, rid, expid from diffimages where jid = @Jid", new { science.Jid });
        var sciPost = configs.Single(c => c.SpecAs<PostProcessingSpec>().SourceJid == science.Jid);
        var diff = sciPost.SpecAs<PostProcessingSpec>().Products.Single(p => p.Role == ProductRoles.DifferenceImage);
        Assert.Equal(d.Pid.ToString(), diff.Keywords["PID"]);
        Assert.Equal(d.Rid.ToString(), diff.Keywords["RID"]);
        Assert.Equal(d.Expid.ToString(), diff.Keywords["EXPID"]);
        Assert.Equal(rf.Rfid.ToString(), diff.Keywords["RFID"]);
        Assert.Equal((await conn.ExecuteScalarAsync<int>("select svid from swversions where cvstag = 'test-sw-1'")).ToString(), diff.Keywords["SVID"]);
        Assert.Equal(CanonicalNames.DifferenceImage(rf.Field, rf.Fid, 5, d.Rid, 15, 1, d.Pid), diff.Target.FileName);
        Assert.StartsWith($"20280907/jid{sciPost.Jid}/", diff.Target.Key);
    }

    [Fact]
    public async Task Registering_the_stamping_job_points_the_products_at_their_stamped_copies_and_a_rerun_skips_them()
    {
        var (_, science) = await NightAsync();
        var plan = await _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate);
        foreach (var c in await _w.ConfigsAsync(plan)) await _w.WriteSuccessManifestAsync(c);

        var report = await _w.Register.RegisterJobListAsync(plan.JobList!);

        Assert.Equal(2, report.Registered);
        Assert.Equal(7, report.StampedProducts);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var file = await conn.ExecuteScalarAsync<string>("select filename from diffimages where jid = @Jid", new { science.Jid });
        Assert.Contains("_pid", file);
        Assert.Equal(file, await conn.ExecuteScalarAsync<string>("select filename from jobproducts where jid = @Jid and role = 'diffimage'", new { science.Jid }));
        Assert.Equal(0, (await _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate)).ArraySize);
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("select count(*) from jobs where ppid = 17"));
    }

    [Fact]
    public async Task Jobs_without_products_get_no_post_processing()
    {
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(5, 5));
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg);
        var sciPlan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var sci = Assert.Single(await _w.ConfigsAsync(sciPlan));
        var m = new ProductManifest { Jid = sci.Jid, Ppid = 15, ProcDate = sci.ProcDate, ExitCode = 33, Reason = "2 earlier images, 3 needed" };
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, sci.Jid), m);
        await _w.Register.RegisterJobListAsync(sciPlan.JobList!);
        Assert.Equal(0, (await _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate)).ArraySize);
    }
}
