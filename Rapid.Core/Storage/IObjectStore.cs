namespace Rapid.Core.Storage;

/// <summary>
/// The object store: S3 on AWS, a directory in embedded mode. Writes are atomic (no reader ever
/// sees half an object); reads of a missing object throw <see cref="ObjectNotFoundException"/>.
/// </summary>
public interface IObjectStore
{
    Task PutFileAsync(ObjectRef target, string localPath, CancellationToken ct = default);
    Task PutBytesAsync(ObjectRef target, ReadOnlyMemory<byte> content, CancellationToken ct = default);

    /// <summary>Downloads to <paramref name="localPath"/> through a temporary name.</summary>
    Task GetFileAsync(ObjectRef source, string localPath, CancellationToken ct = default);
    Task<byte[]> GetBytesAsync(ObjectRef source, CancellationToken ct = default);
    Task<bool> ExistsAsync(ObjectRef source, CancellationToken ct = default);

    /// <summary>The object's size in bytes (a HEAD on S3), without reading it; <see cref="ObjectNotFoundException"/> when it is missing.</summary>
    Task<long> SizeAsync(ObjectRef source, CancellationToken ct = default);

    /// <summary>Objects in <paramref name="bucket"/> whose keys start with <paramref name="prefix"/>, in key order.</summary>
    IAsyncEnumerable<ObjectRef> ListAsync(string bucket, string prefix, CancellationToken ct = default);
    Task DeleteAsync(ObjectRef target, CancellationToken ct = default);
}
