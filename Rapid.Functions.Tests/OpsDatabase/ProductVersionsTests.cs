using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.OpsDatabase;

[Collection(OpsDatabaseCollection.Name)]
public sealed class ProductVersionsTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    public async Task A_locked_l2_file_stays_best_when_a_changed_file_is_ingested()
    {
        var img = _w.Image(40, 40, OpsWorld.Night);
        var v1 = (await _w.Ingest.RegisterAsync([img]))[0];
        await _w.Versions.LockAsync(VersionedProduct.L2File, v1.Rid);

        var v2 = (await _w.Ingest.RegisterAsync([img with { Md5 = "ffffffffffffffffffffffffffffffff" }]))[0];

        Assert.Equal((2, 0), (v2.Version, v2.Vbest));
        Assert.Equal((1, 2), await _w.Versions.GetAsync(VersionedProduct.L2File, v1.Rid));
        var v3 = (await _w.Ingest.RegisterAsync([img with { Md5 = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee" }]))[0];
        Assert.Equal((3, 0), (v3.Version, v3.Vbest));
    }

    [Fact]
    public async Task Unlocking_keeps_the_version_best_until_a_newer_one_arrives()
    {
        var img = _w.Image(41, 41, OpsWorld.Night);
        var v1 = (await _w.Ingest.RegisterAsync([img]))[0];
        await _w.Versions.LockAsync(VersionedProduct.L2File, v1.Rid);
        await _w.Versions.UnlockAsync(VersionedProduct.L2File, v1.Rid);
        Assert.Equal((1, 1), await _w.Versions.GetAsync(VersionedProduct.L2File, v1.Rid));

        var v2 = (await _w.Ingest.RegisterAsync([img with { Md5 = "dddddddddddddddddddddddddddddddd" }]))[0];
        Assert.Equal((2, 1), (v2.Version, v2.Vbest));
        Assert.Equal((1, 0), await _w.Versions.GetAsync(VersionedProduct.L2File, v1.Rid));
    }

    [Fact]
    public async Task Locking_a_product_that_does_not_exist_names_it()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => _w.Versions.LockAsync(VersionedProduct.DifferenceImage, 424242));
        Assert.Contains("diffimages has no row pid = 424242", e.Message);
    }
}
