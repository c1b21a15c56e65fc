using Rapid.Core.Storage;
using Rapid.Core.Tests.Support;

namespace Rapid.Core.Tests.Storage;

public sealed class AtomicFileTests : IDisposable
{
    private readonly TemporaryDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_writer_gets_a_temporary_name_beside_the_target_and_the_result_is_renamed_into_place()
    {
        var target = _dir.Combine("sub", "dir", "product.fits");
        string? seen = null;

        await AtomicFile.WriteAsync(target, async tmp =>
        {
            seen = tmp;
            Assert.False(File.Exists(target));
            await File.WriteAllTextAsync(tmp, "content");
        });

        Assert.NotNull(seen);
        Assert.Equal(Path.GetDirectoryName(Path.GetFullPath(target)), Path.GetDirectoryName(seen));
        Assert.True(AtomicFile.IsTemporary(seen));
        Assert.Equal("content", await File.ReadAllTextAsync(target));
        Assert.Equal(["sub/dir/product.fits"], _dir.AllFiles());
    }

    [Fact]
    public async Task A_writer_that_throws_midway_leaves_no_file_and_no_temporary()
    {
        var target = _dir.Combine("product.fits");

        var e = await Assert.ThrowsAsync<IOException>(() => AtomicFile.WriteAsync(target, async tmp =>
        {
            await File.WriteAllTextAsync(tmp, "half of it");
            throw new IOException("disk gone");
        }));

        Assert.Equal("disk gone", e.Message);
        Assert.Empty(_dir.AllFiles());
    }

    [Fact]
    public void A_synchronous_writer_that_throws_midway_keeps_the_previous_file()
    {
        var target = _dir.Combine("product.fits");
        File.WriteAllText(target, "previous");

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(target, tmp =>
        {
            File.WriteAllText(tmp, "half");
            throw new InvalidOperationException("failed");
        }));

        Assert.Equal("previous", File.ReadAllText(target));
        Assert.Equal(["product.fits"], _dir.AllFiles());
    }

    [Fact]
    public void Writing_replaces_an_existing_file()
    {
        var target = _dir.Combine("a.txt");
        AtomicFile.Write(target, tmp => File.WriteAllText(tmp, "one, longer"));
        AtomicFile.Write(target, tmp => File.WriteAllText(tmp, "two"));

        Assert.Equal("two", File.ReadAllText(target));
        Assert.Equal(["a.txt"], _dir.AllFiles());
    }

    [Fact]
    public void A_writer_that_writes_nothing_fails_and_creates_nothing()
    {
        var target = _dir.Combine("a.txt");

        Assert.Throws<FileNotFoundException>(() => AtomicFile.Write(target, _ => { }));

        Assert.Empty(_dir.AllFiles());
    }

    [Fact]
    public void Temporary_names_are_unique_and_recognised()
    {
        var target = _dir.Combine("x.json");
        var a = AtomicFile.TemporaryNameFor(target);
        var b = AtomicFile.TemporaryNameFor(target);

        Assert.NotEqual(a, b);
        Assert.True(AtomicFile.IsTemporary(a));
        Assert.EndsWith("x.json", a);
        Assert.False(AtomicFile.IsTemporary(target));
        Assert.False(AtomicFile.IsTemporary(_dir.Combine("rapid-tmp-x.json")));
    }
}
