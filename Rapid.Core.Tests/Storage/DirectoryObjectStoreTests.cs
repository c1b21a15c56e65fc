using System.Text;
using Rapid.Core.Storage;
using Rapid.Core.Tests.Support;

namespace Rapid.Core.Tests.Storage;

public sealed class DirectoryObjectStoreTests : IDisposable
{
    private readonly TemporaryDirectory _dir = new();
    private readonly DirectoryObjectStore _store;

    public DirectoryObjectStoreTests() => _store = new DirectoryObjectStore(_dir.Combine("store"));

    public void Dispose() => _dir.Dispose();

    private static ObjectRef Obj(string uri) => ObjectRef.Parse(uri);

    private async Task<List<ObjectRef>> List(string bucket, string prefix)
    {
        var found = new List<ObjectRef>();
        await foreach (var o in _store.ListAsync(bucket, prefix)) found.Add(o);
        return found;
    }

    [Fact]
    public void Root_is_created_and_made_absolute()
    {
        Assert.True(Path.IsPathFullyQualified(_store.Root));
        Assert.True(Directory.Exists(_store.Root));
    }

    [Fact]
    public void An_object_is_the_file_bucket_slash_key_under_the_root() =>
        Assert.Equal(Path.Combine(_store.Root, "products", "20250404", "jid7", "a.fits"),
            _store.PathOf(Obj("s3://products/20250404/jid7/a.fits")));

    [Fact]
    public async Task Bytes_put_are_the_bytes_got()
    {
        var obj = Obj("s3://pipeline/20250404/jid7/job_config_jid7.json");
        var content = Encoding.UTF8.GetBytes("{\"jid\": 7}");

        await _store.PutBytesAsync(obj, content);

        Assert.Equal(content, await _store.GetBytesAsync(obj));
        Assert.Equal(content, await File.ReadAllBytesAsync(_store.PathOf(obj)));
    }

    [Fact]
    public async Task Putting_again_replaces_the_object()
    {
        var obj = Obj("s3://b/k.txt");
        await _store.PutBytesAsync(obj, "first, longer content"u8.ToArray());
        await _store.PutBytesAsync(obj, "second"u8.ToArray());

        Assert.Equal("second"u8.ToArray(), await _store.GetBytesAsync(obj));
    }

    [Fact]
    public async Task A_file_put_is_the_file_got()
    {
        var source = _dir.Combine("source.bin");
        var content = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        await File.WriteAllBytesAsync(source, content);
        var obj = Obj("s3://l2/sub/dir/image.fits");

        await _store.PutFileAsync(obj, source);
        var copy = _dir.Combine("downloads", "nested", "image.fits");
        await _store.GetFileAsync(obj, copy);

        Assert.Equal(content, await File.ReadAllBytesAsync(copy));
        Assert.Equal(["downloads/nested/image.fits", "source.bin", "store/l2/sub/dir/image.fits"], _dir.AllFiles());
    }

    [Fact]
    public async Task Exists_is_true_only_after_a_put_and_until_a_delete()
    {
        var obj = Obj("s3://b/x/y.json");
        Assert.False(await _store.ExistsAsync(obj));

        await _store.PutBytesAsync(obj, "{}"u8.ToArray());
        Assert.True(await _store.ExistsAsync(obj));

        await _store.DeleteAsync(obj);
        Assert.False(await _store.ExistsAsync(obj));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.GetBytesAsync(obj));
    }

    [Fact]
    public async Task Size_is_the_objects_byte_count_and_a_missing_object_is_named()
    {
        var obj = Obj("s3://b/x/size.bin");
        await _store.PutBytesAsync(obj, new byte[1234]);

        Assert.Equal(1234, await _store.SizeAsync(obj));
        var e = await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.SizeAsync(Obj("s3://b/x/none.bin")));
        Assert.Contains("none.bin", e.Message);
    }

    [Fact]
    public async Task Deleting_a_missing_object_is_not_an_error_as_on_S3()
    {
        await _store.DeleteAsync(Obj("s3://b/never/written.txt"));
        await _store.DeleteAsync(Obj("s3://no-such-bucket/k"));

        Assert.False(await _store.ExistsAsync(Obj("s3://b/never/written.txt")));
    }

    [Fact]
    public async Task Reading_a_missing_object_names_it()
    {
        var missing = Obj("s3://products/20250404/jid9/missing.fits");

        var bytes = await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.GetBytesAsync(missing));
        var file = await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.GetFileAsync(missing, _dir.Combine("out.fits")));

        Assert.Contains("s3://products/20250404/jid9/missing.fits", bytes.Message);
        Assert.Equal(missing, bytes.Missing);
        Assert.Contains("s3://products/20250404/jid9/missing.fits", file.Message);
        Assert.False(File.Exists(_dir.Combine("out.fits")));
    }

    [Fact]
    public async Task List_returns_the_keys_under_a_prefix_in_ordinal_key_order()
    {
        foreach (var key in new[] { "20250404/jid10/b.fits", "20250404/jid2/a.fits", "20250404/jid10/a.fits", "20250405/jid3/a.fits", "20250404/Z.txt", "top.txt" })
            await _store.PutBytesAsync(new ObjectRef("products", key), "x"u8.ToArray());
        await _store.PutBytesAsync(Obj("s3://other/20250404/jid1/a.fits"), "x"u8.ToArray());

        Assert.Equal(
            ["20250404/Z.txt", "20250404/jid10/a.fits", "20250404/jid10/b.fits", "20250404/jid2/a.fits"],
            (await List("products", "20250404/")).Select(o => o.Key));
        Assert.Equal(
            ["20250404/jid10/a.fits", "20250404/jid10/b.fits"],
            (await List("products", "20250404/jid1")).Select(o => o.Key));
        Assert.Equal(6, (await List("products", "")).Count);
        Assert.All(await List("products", ""), o => Assert.Equal("products", o.Bucket));
    }

    [Fact]
    public async Task List_of_a_missing_bucket_or_unmatched_prefix_is_empty()
    {
        await _store.PutBytesAsync(Obj("s3://b/k"), "x"u8.ToArray());

        Assert.Empty(await List("no-such-bucket", ""));
        Assert.Empty(await List("b", "nothing-here/"));
    }

    [Fact]
    public async Task List_never_returns_temporary_files()
    {
        await _store.PutBytesAsync(Obj("s3://b/dir/done.fits"), "x"u8.ToArray());
        // What a writer in progress (or a crashed one) leaves beside the final name.
        var inProgress = AtomicFile.TemporaryNameFor(_store.PathOf(Obj("s3://b/dir/pending.fits")));
        await File.WriteAllBytesAsync(inProgress, "half"u8.ToArray());

        Assert.Equal([Obj("s3://b/dir/done.fits")], await List("b", ""));
        Assert.Equal([Obj("s3://b/dir/done.fits")], await List("b", "dir/"));
    }

    [Theory]
    [InlineData("b", "../escape.txt")]
    [InlineData("b", "a/../../escape.txt")]
    [InlineData("b", "a//b.txt")]
    [InlineData("b", "a/./b.txt")]
    [InlineData("b", "./b.txt")]
    [InlineData("b", "/absolute.txt")]
    [InlineData("b", "dir/")]
    [InlineData("..", "escape.txt")]
    [InlineData(".", "k.txt")]
    [InlineData("a/b", "k.txt")]
    [InlineData("", "k.txt")]
    public async Task Keys_and_buckets_that_could_leave_the_root_are_refused_naming_the_object(string bucket, string key)
    {
        var obj = new ObjectRef(bucket, key);

        var put = await Assert.ThrowsAsync<ArgumentException>(() => _store.PutBytesAsync(obj, "x"u8.ToArray()));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.GetBytesAsync(obj));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.ExistsAsync(obj));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.DeleteAsync(obj));

        Assert.Contains(obj.ToString(), put.Message);
        Assert.Equal([Path.GetFileName(_store.Root)], Directory.EnumerateFileSystemEntries(_dir.Path).Select(Path.GetFileName));
        Assert.Empty(Directory.EnumerateFiles(_store.Root, "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("../store")]
    public async Task Listing_a_bucket_that_could_leave_the_root_is_refused(string bucket)
    {
        await File.WriteAllTextAsync(_dir.Combine("outside.txt"), "not in the store");
        await _store.PutBytesAsync(Obj("s3://b/k"), "x"u8.ToArray());

        var e = await Assert.ThrowsAsync<ArgumentException>(() => List(bucket, ""));
        Assert.Contains($"'{bucket}'", e.Message);
    }

    [Fact]
    public async Task A_put_from_a_missing_local_file_names_it_and_leaves_nothing()
    {
        var missing = _dir.Combine("no-such-file.fits");
        var obj = Obj("s3://b/k.fits");

        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => _store.PutFileAsync(obj, missing));

        Assert.Contains(missing, e.Message);
        Assert.False(await _store.ExistsAsync(obj));
        Assert.Empty(Directory.EnumerateFiles(_store.Root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_put_interrupted_after_the_temporary_file_exists_leaves_neither_file_nor_temporary()
    {
        var source = _dir.Combine("source.bin");
        await File.WriteAllBytesAsync(source, new byte[100_000]);
        var obj = Obj("s3://b/dir/k.fits");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        // The copy into the temporary file is what observes the cancellation, after the file was created.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.PutFileAsync(obj, source, cancelled.Token));

        Assert.False(await _store.ExistsAsync(obj));
        Assert.Empty(Directory.EnumerateFiles(_store.Root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task An_interrupted_put_keeps_the_previous_version_whole()
    {
        var source = _dir.Combine("source.bin");
        await File.WriteAllBytesAsync(source, new byte[100_000]);
        var obj = Obj("s3://b/k.fits");
        await _store.PutBytesAsync(obj, "previous"u8.ToArray());
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.PutFileAsync(obj, source, cancelled.Token));

        Assert.Equal("previous"u8.ToArray(), await _store.GetBytesAsync(obj));
        Assert.Equal([obj], await List("b", ""));
    }

    [Fact]
    public async Task An_interrupted_download_leaves_no_local_file()
    {
        var obj = Obj("s3://b/k.fits");
        await _store.PutBytesAsync(obj, new byte[100_000]);
        var target = _dir.Combine("downloads", "k.fits");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.GetFileAsync(obj, target, cancelled.Token));

        Assert.Empty(Directory.EnumerateFiles(_dir.Combine("downloads")));
    }
}
