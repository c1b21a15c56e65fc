using Rapid.Core.Storage;

namespace Rapid.Functions.Ingest;

/// <summary>
/// A read-only, seekable stream over an object of known size whose bytes are fetched by ranged reads only where the
/// stream is read: a FITS reader that reads header blocks and seeks over the data (<see cref="L2FileHeaderReader"/>)
/// fetches the headers alone. The first read fetches <see cref="FirstRangeBytes"/> (ten FITS blocks: a typical L2
/// header with its SIP terms); a read that runs past what was fetched fetches twice as much as the previous range (up
/// to <see cref="MaxRangeBytes"/>), so a long header is found in a few requests until its END card. Fetched ranges are
/// kept, so reading the headers again (once to check the file is complete, once to read them) costs no request.
/// </summary>
public sealed class ObjectRangeStream(IRangedObjectReads reads, ObjectRef source, long length) : Stream
{
    public const int FirstRangeBytes = 10 * 2880;
    public const int MaxRangeBytes = 1 << 20;

    private readonly List<(long Start, byte[] Bytes)> _ranges = [];
    private long _position;
    private int _nextRangeBytes = FirstRangeBytes;

    /// <summary>Ranged reads made, and the bytes they fetched.</summary>
    public int Requests { get; private set; }
    public long BytesFetched { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position >= length || buffer.IsEmpty) return 0;
        var range = RangeAt(_position) ?? Fetch(_position);
        var from = (int)(_position - range.Start);
        var n = Math.Min(buffer.Length, range.Bytes.Length - from);
        if (n <= 0) return 0; // the object ended before its size said (it changed while read)
        range.Bytes.AsSpan(from, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        SeekOrigin.End => length + offset,
        _ => throw new ArgumentOutOfRangeException(nameof(origin)),
    };

    private (long Start, byte[] Bytes)? RangeAt(long position)
    {
        foreach (var range in _ranges)
            if (position >= range.Start && position < range.Start + range.Bytes.Length) return range;
        return null;
    }

    private (long Start, byte[] Bytes) Fetch(long position)
    {
        var size = (int)Math.Min(_nextRangeBytes, length - position);
        // The readers above are synchronous (FITS header parsing); a Lambda has no synchronization context to deadlock.
        var bytes = reads.GetRangeAsync(source, position, size).GetAwaiter().GetResult();
        Requests++;
        BytesFetched += bytes.Length;
        // A read that continues where the last range ended is a header longer than fetched: fetch more next time.
        if (_ranges.Count > 0 && _ranges[^1].Start + _ranges[^1].Bytes.Length == position)
            _nextRangeBytes = Math.Min(_nextRangeBytes * 2, MaxRangeBytes);
        var range = (position, bytes);
        _ranges.Add(range);
        return range;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
