using System.Runtime.CompilerServices;

namespace Rapid.Core.Storage;

/// <summary>
/// The embedded object store: bucket <c>b</c>, key <c>k</c> is the file <c>{root}/b/k</c>.
/// Writes go to a temporary name in the same directory and are renamed into place.
/// </summary>
public sealed class DirectoryObjectStore : IObjectStore, IRangedObjectReads, ILocalObjectFiles
{
    public DirectoryObjectStore(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>The local file that holds an object (it may not exist).</summary>
    public string PathOf(ObjectRef obj)
    {
        // "." and ".." segments would alias or escape; an empty one is no file name.
        if (!IsAllowedBucket(obj.Bucket) || obj.Key.Split('/').Any(s => s is "." or ".." or ""))
            throw new ArgumentException($"object {obj} has a bucket or key that is not allowed in a directory store");
        return Path.Combine(Root, obj.Bucket, obj.Key);
    }

    // A bucket is one directory below the root: an empty, "." or ".." name, or one with a
    // separator, would read or write outside it (or another bucket).
    private static bool IsAllowedBucket(string bucket) =>
        bucket is not ("" or "." or "..") && bucket.IndexOfAny(['/', Path.DirectorySeparatorChar]) < 0;

    public async Task PutFileAsync(ObjectRef target, string localPath, CancellationToken ct = default)
    {
        var path = PathOf(target);
        // File.Copy lets the kernel copy (copy_file_range): a 64 MB image without passing it through user space.
        await AtomicFile.WriteAsync(path, tmp =>
        {
            ct.ThrowIfCancellationRequested();
            File.Copy(localPath, tmp, overwrite: true);
            return Task.CompletedTask;
        });
    }

    public Task MoveFileAsync(ObjectRef target, string localPath, CancellationToken ct = default)
    {
        if (!File.Exists(localPath)) throw new FileNotFoundException($"{localPath} does not exist", localPath);
        return AtomicFile.WriteAsync(PathOf(target), tmp =>
        {
            ct.ThrowIfCancellationRequested();
            File.Move(localPath, tmp, overwrite: true);
            return Task.CompletedTask;
        });
    }

    public string ReadablePath(ObjectRef source) => Existing(source);

    public Task PutBytesAsync(ObjectRef target, ReadOnlyMemory<byte> content, CancellationToken ct = default) =>
        AtomicFile.WriteAsync(PathOf(target), tmp => File.WriteAllBytesAsync(tmp, content.ToArray(), ct));

    public async Task GetFileAsync(ObjectRef source, string localPath, CancellationToken ct = default)
    {
        var path = Existing(source);
        await AtomicFile.WriteAsync(localPath, tmp =>
        {
            ct.ThrowIfCancellationRequested();
            File.Copy(path, tmp, overwrite: true);
            return Task.CompletedTask;
        });
    }

    public Task<byte[]> GetBytesAsync(ObjectRef source, CancellationToken ct = default) =>
        File.ReadAllBytesAsync(Existing(source), ct);

    public async Task<byte[]> GetRangeAsync(ObjectRef source, long offset, int length, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        using var file = File.OpenHandle(Existing(source));
        var size = RandomAccess.GetLength(file);
        var buffer = new byte[(int)Math.Clamp(size - offset, 0, length)];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await RandomAccess.ReadAsync(file, buffer.AsMemory(read), offset + read, ct);
            if (n == 0) break;
            read += n;
        }
        return read == buffer.Length ? buffer : buffer[..read];
    }

    public Task<Stream> OpenReadAsync(ObjectRef source, CancellationToken ct = default) =>
        Task.FromResult<Stream>(new FileStream(Existing(source), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan));

    public Task<bool> ExistsAsync(ObjectRef source, CancellationToken ct = default) =>
        Task.FromResult(File.Exists(PathOf(source)));

    public Task<long> SizeAsync(ObjectRef source, CancellationToken ct = default) =>
        Task.FromResult(new FileInfo(Existing(source)).Length);

    public async IAsyncEnumerable<ObjectRef> ListAsync(string bucket, string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        if (!IsAllowedBucket(bucket))
            throw new ArgumentException($"bucket '{bucket}' is not allowed in a directory store");
        var bucketDir = Path.Combine(Root, bucket);
        if (!Directory.Exists(bucketDir)) yield break;
        var keys = Directory.EnumerateFiles(bucketDir, "*", SearchOption.AllDirectories)
            .Where(f => !AtomicFile.IsTemporary(f))
            .Select(f => Path.GetRelativePath(bucketDir, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            ct.ThrowIfCancellationRequested();
            yield return new ObjectRef(bucket, key);
        }
        await Task.CompletedTask;
    }

    /// <summary>Deleting a missing object is not an error (as on S3).</summary>
    public Task DeleteAsync(ObjectRef target, CancellationToken ct = default)
    {
        var path = PathOf(target);
        // File.Delete ignores a missing file but throws when its directory is missing.
        if (File.Exists(path)) File.Delete(path);
        return Task.CompletedTask;
    }

    private string Existing(ObjectRef source)
    {
        var path = PathOf(source);
        return File.Exists(path) ? path : throw new ObjectNotFoundException(source);
    }
}
