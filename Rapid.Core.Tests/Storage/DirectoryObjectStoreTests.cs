using Rapid.Core.Storage;
using Rapid.Core.Tests.Support;

namespace Rapid.Core.Tests.Storage;

/// <summary>The directory store: <see cref="ObjectStoreContract"/>, and what only a store on a file system must add
/// (the layout under the root, temporary files never listed, names that could leave the root refused).</summary>
public sealed class DirectoryObjectStoreTests : ObjectStoreContract
{
    private readonly TemporaryDirectory _dir = new();
    private readonly DirectoryObjectStore _store;

    public DirectoryObjectStoreTests() => _store = new DirectoryObjectStore(_dir.Combine("store"));

    protected override IObjectStore Store => _store;

    protected override string Bucket => "products";

    public override void Dispose()
    {
        _dir.Dispose();
        base.Dispose();
    }

    private static new ObjectRef Obj(string uri) => ObjectRef.Parse(uri);

    private async Task<List<ObjectRef>> List(string bucket, string prefix)
    {
        var found = new List<ObjectRef>();
        await foreach (var o in _store.ListAsync(bucket, prefix)) found.Add(o);
        return found;
    }

    [Fact]
    public async Task A_moved_file_becomes_the_object_and_leaves_its_old_place_and_an_object_is_read_where_it_lies()
    {
        var local = _dir.Combine("product.bin");
        await File.WriteAllBytesAsync(local, [1, 2, 3]);
        var obj = Obj("s3://products/20250404/jid7/product.bin");
        ILocalObjectFiles files = _store;

        await files.MoveFileAsync(obj, local);

        Assert.False(File.Exists(local));
        Assert.Equal([1, 2, 3], await _store.GetBytesAsync(obj));
        Assert.Equal(_store.PathOf(obj), files.ReadablePath(obj));
        Assert.DoesNotContain(Directory.GetFiles(Path.GetDirectoryName(_store.PathOf(obj))!), AtomicFile.IsTemporary);
        Assert.Throws<ObjectNotFoundException>(() => files.ReadablePath(Obj("s3://products/20250404/jid7/none.bin")));
        await Assert.ThrowsAsync<FileNotFoundException>(() => files.MoveFileAsync(Obj("s3://products/x.bin"), _dir.Combine("none.bin")));
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
    public async Task Deleting_in_a_bucket_never_written_is_not_an_error_as_on_S3()
    {
        await _store.DeleteAsync(Obj("s3://b/never/written.txt"));
        await _store.DeleteAsync(Obj("s3://no-such-bucket/k"));

        Assert.False(await _store.ExistsAsync(Obj("s3://b/never/written.txt")));
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
}
