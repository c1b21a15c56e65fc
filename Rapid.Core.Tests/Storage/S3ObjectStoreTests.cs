using Amazon.S3.Model;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;
using Rapid.Core.Tests.Support;

namespace Rapid.Core.Tests.Storage;

/// <summary>S3ObjectStore against s3rver, a local S3 implementation (see <see cref="S3rverFixture"/>).</summary>
public sealed class S3ObjectStoreTests : IClassFixture<S3rverFixture>, IAsyncLifetime, IDisposable
{
    private readonly S3rverFixture _s3;
    private readonly S3ObjectStore _store;
    private readonly TemporaryDirectory _dir = new();
    // A bucket per test: tests in a class share one server.
    private readonly string _bucket = $"rapid-test-{Guid.NewGuid():N}"[..30];

    public S3ObjectStoreTests(S3rverFixture s3)
    {
        _s3 = s3;
        _store = new S3ObjectStore(s3.Client);
    }

    public Task InitializeAsync() => _s3.Client.PutBucketAsync(new PutBucketRequest { BucketName = _bucket });

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _dir.Dispose();

    private ObjectRef Obj(string key) => new(_bucket, key);

    private async Task<List<ObjectRef>> List(string prefix)
    {
        var found = new List<ObjectRef>();
        await foreach (var o in _store.ListAsync(_bucket, prefix)) found.Add(o);
        return found;
    }

    [Fact]
    public async Task Bytes_put_are_the_bytes_got()
    {
        var obj = Obj("20250404/jid7/job_config_jid7.json");
        var content = "{\"jid\": 7}"u8.ToArray();

        await _store.PutBytesAsync(obj, content);

        Assert.Equal(content, await _store.GetBytesAsync(obj));
    }

    [Fact]
    public async Task Empty_content_round_trips()
    {
        await _store.PutBytesAsync(Obj("empty"), ReadOnlyMemory<byte>.Empty);

        Assert.Empty(await _store.GetBytesAsync(Obj("empty")));
    }

    [Fact]
    public async Task A_file_put_is_the_file_got()
    {
        var source = _dir.Combine("image.fits");
        var content = Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 13 + i / 7)).ToArray();
        await File.WriteAllBytesAsync(source, content);
        var obj = Obj("l2/sub/image.fits");

        await _store.PutFileAsync(obj, source);
        var copy = _dir.Combine("downloads", "image.fits");
        await _store.GetFileAsync(obj, copy);

        Assert.Equal(FileChecksum.Of(source), FileChecksum.Of(copy));
        Assert.Equal(["downloads/image.fits", "image.fits"], _dir.AllFiles());
    }

    [Fact]
    public async Task Putting_again_replaces_the_object()
    {
        await _store.PutBytesAsync(Obj("k.txt"), "first, longer content"u8.ToArray());
        await _store.PutBytesAsync(Obj("k.txt"), "second"u8.ToArray());

        Assert.Equal("second"u8.ToArray(), await _store.GetBytesAsync(Obj("k.txt")));
    }

    [Fact]
    public async Task Exists_is_true_only_after_a_put_and_until_a_delete()
    {
        var obj = Obj("x/y.json");
        Assert.False(await _store.ExistsAsync(obj));

        await _store.PutBytesAsync(obj, "{}"u8.ToArray());
        Assert.True(await _store.ExistsAsync(obj));

        await _store.DeleteAsync(obj);
        Assert.False(await _store.ExistsAsync(obj));
    }

    [Fact]
    public async Task Size_is_the_objects_byte_count_and_a_missing_object_is_named()
    {
        var obj = Obj("x/size.bin");
        await _store.PutBytesAsync(obj, new byte[1234]);

        Assert.Equal(1234, await _store.SizeAsync(obj));
        var e = await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.SizeAsync(Obj("x/none.bin")));
        Assert.Contains("none.bin", e.Message);
    }

    [Fact]
    public async Task Deleting_a_missing_object_is_not_an_error() =>
        await _store.DeleteAsync(Obj("never/written.txt"));

    [Fact]
    public async Task Reading_a_missing_object_names_it_and_downloads_nothing()
    {
        var missing = Obj("20250404/jid9/missing.fits");
        var target = _dir.Combine("out.fits");

        var bytes = await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.GetBytesAsync(missing));
        var file = await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.GetFileAsync(missing, target));

        Assert.Equal(missing, bytes.Missing);
        Assert.Contains($"s3://{_bucket}/20250404/jid9/missing.fits", bytes.Message);
        Assert.Equal(missing, file.Missing);
        Assert.Empty(_dir.AllFiles());
    }

    [Fact]
    public async Task List_returns_the_keys_under_a_prefix_in_key_order()
    {
        foreach (var key in new[] { "20250404/jid10/b.fits", "20250404/jid2/a.fits", "20250404/jid10/a.fits", "20250405/jid3/a.fits", "20250404/Z.txt" })
            await _store.PutBytesAsync(Obj(key), "x"u8.ToArray());

        Assert.Equal(
            ["20250404/Z.txt", "20250404/jid10/a.fits", "20250404/jid10/b.fits", "20250404/jid2/a.fits"],
            (await List("20250404/")).Select(o => o.Key));
        Assert.Equal(["20250404/jid10/a.fits", "20250404/jid10/b.fits"], (await List("20250404/jid1")).Select(o => o.Key));
        Assert.Equal(5, (await List("")).Count);
        Assert.Empty(await List("nothing/"));
        Assert.All(await List(""), o => Assert.Equal(_bucket, o.Bucket));
    }

    [Fact]
    public async Task Contracts_written_to_one_store_read_the_same_from_the_other()
    {
        // The directory store and S3 hold the same bytes under the same s3:// names.
        var local = new DirectoryObjectStore(_dir.Combine("store"));
        var obj = Obj("20250404/jid1/manifest_jid1.json");
        var manifest = new ProductManifest { Jid = 1, Ppid = 15, ProcDate = "20250404", ExitCode = 0 };

        await Contract.WriteAsync(_store, obj, manifest);
        await Contract.WriteAsync(local, obj, manifest);

        Assert.Equal(await local.GetBytesAsync(obj), await _store.GetBytesAsync(obj));
        Assert.Equivalent(manifest, await Contract.ReadAsync<ProductManifest>(_store, obj), strict: true);
    }
}
