using System.Text;
using Rapid.Core.Storage;
using Rapid.Core.Tests.Support;

namespace Rapid.Core.Tests.Storage;

/// <summary>Reference digests are the FIPS 180-2 (SHA-256) and RFC 1321 (MD5) test vectors.</summary>
public sealed class FileChecksumTests : IDisposable
{
    private const string Sha256OfAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private const string Md5OfAbc = "900150983cd24fb0d6963f7d28e17f72";
    private const string Sha256OfEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private const string Md5OfEmpty = "d41d8cd98f00b204e9800998ecf8427e";

    private readonly TemporaryDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Digests_of_abc_are_the_published_test_vectors() =>
        Assert.Equal(new FileChecksum(3, Sha256OfAbc, Md5OfAbc), FileChecksum.Of("abc"u8));

    [Fact]
    public void A_file_holding_abc_has_the_published_digests()
    {
        var path = _dir.Combine("abc.txt");
        File.WriteAllText(path, "abc", new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

        Assert.Equal(new FileChecksum(3, Sha256OfAbc, Md5OfAbc), FileChecksum.Of(path));
    }

    [Fact]
    public void An_empty_file_has_size_zero_and_the_digests_of_nothing()
    {
        var path = _dir.Combine("empty");
        File.WriteAllBytes(path, []);

        Assert.Equal(new FileChecksum(0, Sha256OfEmpty, Md5OfEmpty), FileChecksum.Of(path));
        Assert.Equal(new FileChecksum(0, Sha256OfEmpty, Md5OfEmpty), FileChecksum.Of(ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void Stream_and_span_agree_on_content_longer_than_one_read_buffer()
    {
        // 2.5 MiB: the stream path reads in 1 MiB blocks, so this crosses two block boundaries.
        var content = new byte[5 << 19];
        new Random(42).NextBytes(content);

        var fromSpan = FileChecksum.Of(content.AsSpan());
        var fromStream = FileChecksum.Of(new MemoryStream(content));

        Assert.Equal(fromSpan, fromStream);
        Assert.Equal(content.Length, fromStream.SizeBytes);
        Assert.Matches("^[0-9a-f]{64}$", fromStream.Sha256);
        Assert.Matches("^[0-9a-f]{32}$", fromStream.Md5);
    }

    [Fact]
    public void Different_content_has_different_digests() =>
        Assert.NotEqual(FileChecksum.Of("abc"u8).Sha256, FileChecksum.Of("abd"u8).Sha256);

    [Fact]
    public void A_missing_file_is_named()
    {
        var missing = _dir.Combine("nope.fits");

        var e = Assert.Throws<FileNotFoundException>(() => FileChecksum.Of(missing));

        Assert.Contains(missing, e.Message);
    }
}
