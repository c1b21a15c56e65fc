namespace Rapid.Core.Storage;

/// <summary>
/// Reads part of an object without reading the rest (an HTTP range GET on S3, a seek in a directory store), and streams
/// a whole object without holding it in memory. Ingest reads an L2 file's FITS headers this way, never its pixels.
/// </summary>
public interface IRangedObjectReads
{
    /// <summary>
    /// The bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of the object, fewer
    /// where it ends first; <see cref="ObjectNotFoundException"/> when it is missing.
    /// </summary>
    Task<byte[]> GetRangeAsync(ObjectRef source, long offset, int length, CancellationToken ct = default);

    /// <summary>The whole object as a stream read as it is consumed; <see cref="ObjectNotFoundException"/> when it is missing.</summary>
    Task<Stream> OpenReadAsync(ObjectRef source, CancellationToken ct = default);
}
