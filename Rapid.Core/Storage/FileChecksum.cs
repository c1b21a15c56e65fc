using System.Security.Cryptography;

namespace Rapid.Core.Storage;

/// <summary>Size and digests of a product file. MD5 is kept because the original ops database stores MD5.</summary>
public sealed record FileChecksum(long SizeBytes, string Sha256, string Md5)
{
    public static FileChecksum Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        return Of(stream);
    }

    public static FileChecksum Of(ReadOnlySpan<byte> content) =>
        new(content.Length, Convert.ToHexStringLower(SHA256.HashData(content)), Convert.ToHexStringLower(MD5.HashData(content)));

    public static FileChecksum Of(Stream stream)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        // MD5 and SHA-256 of a 64 MB product image take about as long as each other: over large chunks they run side by side.
        var buffer = new byte[ChunkBytes];
        long size = 0;
        int n;
        while ((n = ReadChunk(stream, buffer)) > 0)
        {
            var length = n;
            if (length >= ParallelFromBytes)
                Parallel.Invoke(() => sha.AppendData(buffer, 0, length), () => md5.AppendData(buffer, 0, length));
            else
            {
                sha.AppendData(buffer, 0, length);
                md5.AppendData(buffer, 0, length);
            }
            size += length;
        }
        return new FileChecksum(size, Convert.ToHexStringLower(sha.GetHashAndReset()), Convert.ToHexStringLower(md5.GetHashAndReset()));
    }

    private const int ChunkBytes = 1 << 22;
    private const int ParallelFromBytes = 1 << 20;

    // Fills the buffer unless the stream ends first (a stream may return fewer bytes than asked for).
    private static int ReadChunk(Stream stream, byte[] buffer)
    {
        var total = 0;
        int n;
        while (total < buffer.Length && (n = stream.Read(buffer, total, buffer.Length - total)) > 0) total += n;
        return total;
    }
}
