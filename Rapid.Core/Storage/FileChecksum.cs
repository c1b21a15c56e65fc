using System.Security.Cryptography;

namespace Rapid.Core.Storage;

/// <summary>Size and digests of a product file. MD5 is kept because the original ops database stores MD5.</summary>
public sealed record FileChecksum(long SizeBytes, string Sha256, string Md5)
{
    public static FileChecksum Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Of(stream);
    }

    public static FileChecksum Of(ReadOnlySpan<byte> content) =>
        new(content.Length, Convert.ToHexStringLower(SHA256.HashData(content)), Convert.ToHexStringLower(MD5.HashData(content)));

    public static FileChecksum Of(Stream stream)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = new byte[1 << 20];
        long size = 0;
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            md5.AppendData(buffer, 0, n);
            size += n;
        }
        return new FileChecksum(size, Convert.ToHexStringLower(sha.GetHashAndReset()), Convert.ToHexStringLower(md5.GetHashAndReset()));
    }
}
