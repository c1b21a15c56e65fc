using Rapid.Core.Storage;
using Rapid.Core.Tests.Support;

namespace Rapid.Core.Tests.Storage;

/// <summary>
/// What every <see cref="IObjectStore"/> promises, run against each store (a derived class per store): the workflow
/// moves between the directory store and S3 without noticing, so both must behave the same on round trips,
/// replacement, deletion, missing objects, listing order and interrupted transfers.
/// </summary>
public abstract class ObjectStoreContract : IDisposable
{
    /// <summary>Local files the tests upload from and download to; never the store's own storage.</summary>
    protected TemporaryDirectory Scratch { get; } = new();

    protected abstract IObjectStore Store { get; }

    /// <summary>An empty bucket of this test's own.</summary>
    protected abstract string Bucket { get; }

    protected ObjectRef Obj(string key) => new(Bucket, key);

    protected async Task<List<ObjectRef>> List(string prefix)
    {
        var found = new List<ObjectRef>();
        await foreach (var o in Store.ListAsync(Bucket, prefix)) found.Add(o);
        return found;
    }

    public virtual void Dispose()
    {
        Scratch.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Bytes_put_are_the_bytes_got()
    {
        var obj = Obj("20250404/jid7/job_config_jid7.json");
        var content = "{\"jid\": 7}"u8.ToArray();

        await Store.PutBytesAsync(obj, content);

        Assert.Equal(content, await Store.GetBytesAsync(obj));
    }

    [Fact]
    public async Task Empty_content_round_trips()
    {
        await Store.PutBytesAsync(Obj("empty"), ReadOnlyMemory<byte>.Empty);

        Assert.Empty(await Store.GetBytesAsync(Obj("empty")));
    }

    [Fact]
    public async Task A_file_put_is_the_file_got()
    {
        var source = Scratch.Combine("image.fits");
        var content = Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 13 + i / 7)).ToArray();
        await File.WriteAllBytesAsync(source, content);
        var obj = Obj("l2/sub/image.fits");

        await Store.PutFileAsync(obj, source);
        var copy = Scratch.Combine("downloads", "nested", "image.fits");
        await Store.GetFileAsync(obj, copy);

        Assert.Equal(FileChecksum.Of(source), FileChecksum.Of(copy));
        Assert.Equal(["downloads/nested/image.fits", "image.fits"], Scratch.AllFiles());
    }

    [Fact]
    public async Task Putting_again_replaces_the_object()
    {
        await Store.PutBytesAsync(Obj("k.txt"), "first, longer content"u8.ToArray());
        await Store.PutBytesAsync(Obj("k.txt"), "second"u8.ToArray());

        Assert.Equal("second"u8.ToArray(), await Store.GetBytesAsync(Obj("k.txt")));
    }

    [Fact]
    public async Task Exists_is_true_only_after_a_put_and_until_a_delete()
    {
        var obj = Obj("x/y.json");
        Assert.False(await Store.ExistsAsync(obj));

        await Store.PutBytesAsync(obj, "{}"u8.ToArray());
        Assert.True(await Store.ExistsAsync(obj));

        await Store.DeleteAsync(obj);
        Assert.False(await Store.ExistsAsync(obj));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetBytesAsync(obj));
    }

    [Fact]
    public async Task Size_is_the_objects_byte_count_and_a_missing_object_is_named()
    {
        var obj = Obj("x/size.bin");
        await Store.PutBytesAsync(obj, new byte[1234]);

        Assert.Equal(1234, await Store.SizeAsync(obj));
        var e = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.SizeAsync(Obj("x/none.bin")));
        Assert.Contains("none.bin", e.Message);
    }

    /// <summary>Issue 13 (ingest reads only FITS headers): ranges are the bytes asked for, cut at the object's end; the whole object streams.</summary>
    [Fact]
    public async Task A_range_is_those_bytes_only_cut_at_the_end_and_the_whole_object_streams()
    {
        var content = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        var obj = Obj("ranges/object.bin");
        await Store.PutBytesAsync(obj, content);
        var reads = Assert.IsAssignableFrom<IRangedObjectReads>(Store);

        Assert.Equal(content[2880..5760], await reads.GetRangeAsync(obj, 2880, 2880));
        Assert.Equal(content[9000..], await reads.GetRangeAsync(obj, 9000, 5000));
        Assert.Equal(content[..1], await reads.GetRangeAsync(obj, 0, 1));
        await using (var stream = await reads.OpenReadAsync(obj))
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(content, copy.ToArray());
        }
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => reads.GetRangeAsync(Obj("ranges/missing.bin"), 0, 10));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => reads.OpenReadAsync(Obj("ranges/missing.bin")));
    }

    [Fact]
    public async Task Deleting_a_missing_object_is_not_an_error()
    {
        await Store.DeleteAsync(Obj("never/written.txt"));

        Assert.False(await Store.ExistsAsync(Obj("never/written.txt")));
    }

    [Fact]
    public async Task Reading_a_missing_object_names_it_and_downloads_nothing()
    {
        var missing = Obj("20250404/jid9/missing.fits");

        var bytes = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetBytesAsync(missing));
        var file = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetFileAsync(missing, Scratch.Combine("out.fits")));

        Assert.Equal(missing, bytes.Missing);
        Assert.Contains($"s3://{Bucket}/20250404/jid9/missing.fits", bytes.Message);
        Assert.Equal(missing, file.Missing);
        Assert.Empty(Scratch.AllFiles());
    }

    [Fact]
    public async Task List_returns_the_keys_under_a_prefix_in_ordinal_key_order()
    {
        foreach (var key in new[] { "20250404/jid10/b.fits", "20250404/jid2/a.fits", "20250404/jid10/a.fits", "20250405/jid3/a.fits", "20250404/Z.txt" })
            await Store.PutBytesAsync(Obj(key), "x"u8.ToArray());

        Assert.Equal(
            ["20250404/Z.txt", "20250404/jid10/a.fits", "20250404/jid10/b.fits", "20250404/jid2/a.fits"],
            (await List("20250404/")).Select(o => o.Key));
        Assert.Equal(["20250404/jid10/a.fits", "20250404/jid10/b.fits"], (await List("20250404/jid1")).Select(o => o.Key));
        Assert.Equal(5, (await List("")).Count);
        Assert.Empty(await List("nothing/"));
        Assert.All(await List(""), o => Assert.Equal(Bucket, o.Bucket));
    }

    [Fact]
    public async Task A_put_from_a_missing_local_file_names_it_and_leaves_nothing()
    {
        var missing = Scratch.Combine("no-such-file.fits");
        var obj = Obj("k.fits");

        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => Store.PutFileAsync(obj, missing));

        Assert.Contains(missing, e.Message);
        Assert.False(await Store.ExistsAsync(obj));
        Assert.Empty(await List(""));
    }

    [Fact]
    public async Task An_interrupted_put_keeps_the_previous_version_whole()
    {
        var source = Scratch.Combine("source.bin");
        await File.WriteAllBytesAsync(source, new byte[100_000]);
        var obj = Obj("k.fits");
        await Store.PutBytesAsync(obj, "previous"u8.ToArray());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.PutFileAsync(obj, source, cancelled.Token));

        Assert.Equal("previous"u8.ToArray(), await Store.GetBytesAsync(obj));
        Assert.Equal([obj], await List(""));
    }

    [Fact]
    public async Task An_interrupted_download_leaves_no_local_file()
    {
        var obj = Obj("k.fits");
        await Store.PutBytesAsync(obj, new byte[100_000]);
        var target = Scratch.Combine("downloads", "k.fits");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.GetFileAsync(obj, target, cancelled.Token));

        Assert.Empty(Scratch.AllFiles());
    }
}
