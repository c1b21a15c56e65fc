using Amazon.S3.Model;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;
using Rapid.Core.Tests.Support;

namespace Rapid.Core.Tests.Storage;

/// <summary>S3ObjectStore against s3rver, a local S3 implementation (see <see cref="S3rverFixture"/>):
/// <see cref="ObjectStoreContract"/>, and that the two stores hold the same bytes under the same names.</summary>
public sealed class S3ObjectStoreTests : ObjectStoreContract, IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private readonly S3rverFixture _s3;
    private readonly S3ObjectStore _store;
    // A bucket per test: tests in a class share one server.
    private readonly string _bucket = $"rapid-test-{Guid.NewGuid():N}"[..30];

    public S3ObjectStoreTests(S3rverFixture s3)
    {
        _s3 = s3;
        _store = new S3ObjectStore(s3.Client);
    }

    protected override IObjectStore Store => _store;

    protected override string Bucket => _bucket;

    public Task InitializeAsync() => _s3.Client.PutBucketAsync(new PutBucketRequest { BucketName = _bucket });

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Contracts_written_to_one_store_read_the_same_from_the_other()
    {
        // The directory store and S3 hold the same bytes under the same s3:// names.
        var local = new DirectoryObjectStore(Scratch.Combine("store"));
        var obj = Obj("20250404/jid1/manifest_jid1.json");
        var manifest = new ProductManifest { Jid = 1, Ppid = 15, ProcDate = "20250404", ExitCode = 0 };

        await Contract.WriteAsync(_store, obj, manifest);
        await Contract.WriteAsync(local, obj, manifest);

        Assert.Equal(await local.GetBytesAsync(obj), await _store.GetBytesAsync(obj));
        Assert.Equivalent(manifest, await Contract.ReadAsync<ProductManifest>(_store, obj), strict: true);
    }
}
