using System.Net;
using System.Runtime.CompilerServices;
using Amazon.S3;
using Amazon.S3.Model;

namespace Rapid.Core.Storage;

/// <summary>
/// The object store on Amazon S3. Uploads are single PUTs (S3 makes them atomic); objects are
/// encrypted at rest by the buckets' default encryption, which the CDK stack enforces.
/// Uploads are signed over the whole body, not sent aws-chunked (the SDK's default), so
/// S3-compatible stores that do not decode aws-chunked, such as s3rver used by the tests,
/// store the bytes sent rather than the chunk framing; the SDK hashes the body once first.
/// Without a client it makes one from the environment, as the SDK does, except that it insists on
/// a region: on AWS the region is where the buckets are (Lambda sets AWS_REGION, the job
/// definitions do for Batch jobs), and an endpoint override (AWS_ENDPOINT_URL_S3, tests) must not
/// let a missing one pass unnoticed.
/// </summary>
public sealed class S3ObjectStore(IAmazonS3? client = null) : IObjectStore, IRangedObjectReads
{
    private readonly IAmazonS3 _s3 = client ?? ClientFromEnvironment();

    /// <summary>An S3 client configured by the SDK's chain (credentials, endpoint), in the region it finds.</summary>
    public static AmazonS3Client ClientFromEnvironment()
    {
        var region = Amazon.Runtime.FallbackRegionFactory.GetRegionEndpoint()
            ?? throw new InvalidOperationException(
                "no AWS region for the S3 object store: set AWS_REGION (Lambda sets it for a function; the Batch job definitions set it for the pipeline)");
        return new AmazonS3Client(new AmazonS3Config { RegionEndpoint = region });
    }

    public async Task PutFileAsync(ObjectRef target, string localPath, CancellationToken ct = default) =>
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = target.Bucket, Key = target.Key, FilePath = localPath, UseChunkEncoding = false }, ct);

    public async Task PutBytesAsync(ObjectRef target, ReadOnlyMemory<byte> content, CancellationToken ct = default)
    {
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = target.Bucket, Key = target.Key, InputStream = stream, UseChunkEncoding = false }, ct);
    }

    public async Task GetFileAsync(ObjectRef source, string localPath, CancellationToken ct = default)
    {
        using var response = await Get(source, ct);
        await AtomicFile.WriteAsync(localPath, async tmp =>
        {
            await using var dst = File.Create(tmp);
            await response.ResponseStream.CopyToAsync(dst, ct);
        });
    }

    public async Task<byte[]> GetBytesAsync(ObjectRef source, CancellationToken ct = default)
    {
        using var response = await Get(source, ct);
        using var buffer = new MemoryStream();
        await response.ResponseStream.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }

    public async Task<bool> ExistsAsync(ObjectRef source, CancellationToken ct = default)
    {
        try
        {
            await _s3.GetObjectMetadataAsync(source.Bucket, source.Key, ct);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task<long> SizeAsync(ObjectRef source, CancellationToken ct = default)
    {
        try
        {
            return (await _s3.GetObjectMetadataAsync(source.Bucket, source.Key, ct)).ContentLength;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new ObjectNotFoundException(source);
        }
    }

    public async IAsyncEnumerable<ObjectRef> ListAsync(string bucket, string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
        ListObjectsV2Response response;
        do
        {
            response = await _s3.ListObjectsV2Async(request, ct);
            foreach (var o in response.S3Objects ?? []) yield return new ObjectRef(bucket, o.Key);
            request.ContinuationToken = response.NextContinuationToken;
        } while (response.IsTruncated == true);
    }

    public async Task DeleteAsync(ObjectRef target, CancellationToken ct = default) =>
        await _s3.DeleteObjectAsync(target.Bucket, target.Key, ct);

    public async Task<byte[]> GetRangeAsync(ObjectRef source, long offset, int length, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        try
        {
            // RFC 9110 byte range "bytes=first-last", last inclusive; a range past the end is cut at the end by S3.
            using var response = await _s3.GetObjectAsync(new GetObjectRequest
            {
                BucketName = source.Bucket, Key = source.Key, ByteRange = new ByteRange(offset, offset + length - 1),
            }, ct);
            // RFC 9110 lets a server ignore Range and answer 200 with the whole object (s3rver does so for "bytes=0-0"):
            // then the range is cut out of the body here, reading no further than its end.
            var skip = response.HttpStatusCode == HttpStatusCode.PartialContent ? 0 : offset;
            var buffer = new byte[length];
            var read = 0;
            var body = response.ResponseStream;
            var scratch = skip > 0 ? new byte[1 << 16] : [];
            while (skip > 0)
            {
                var n = await body.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, skip)), ct);
                if (n == 0) return [];
                skip -= n;
            }
            while (read < length)
            {
                var n = await body.ReadAsync(buffer.AsMemory(read), ct);
                if (n == 0) break;
                read += n;
            }
            return read == length ? buffer : buffer[..read];
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new ObjectNotFoundException(source);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            return []; // the offset is at or past the end
        }
    }

    public async Task<Stream> OpenReadAsync(ObjectRef source, CancellationToken ct = default) => new ResponseStream(await Get(source, ct));

    /// <summary>The body of a GET, disposing the response with it.</summary>
    private sealed class ResponseStream(GetObjectResponse response) : Stream
    {
        private readonly Stream _body = response.ResponseStream;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => response.ContentLength;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _body.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => _body.Read(buffer);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => _body.ReadAsync(buffer, ct);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) response.Dispose();
            base.Dispose(disposing);
        }
    }

    private async Task<GetObjectResponse> Get(ObjectRef source, CancellationToken ct)
    {
        try
        {
            return await _s3.GetObjectAsync(source.Bucket, source.Key, ct);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new ObjectNotFoundException(source);
        }
    }
}
