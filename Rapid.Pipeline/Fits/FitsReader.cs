using System.IO.Compression;
using System.Text;

namespace Rapid.Pipeline.Fits;

/// <summary>
/// Reads HDUs one after another from a FITS file (plain or gzip-compressed, detected by the gzip magic bytes).
/// Every failure is a <see cref="FitsFormatException"/> naming the file.
/// </summary>
internal sealed class FitsReader : IDisposable
{
    private readonly Stream _stream;
    private readonly string _path;
    private int _nextIndex;
    private long _dataRemaining;    // data bytes of the last HDU not yet read
    private long _paddingRemaining; // its padding to the 2880-byte block
    private bool _atEnd;
    private readonly bool _leaveOpen;

    private FitsReader(Stream stream, string path, bool leaveOpen = false)
    {
        _stream = stream;
        _path = path;
        _leaveOpen = leaveOpen;
    }

    public string Path => _path;

    public static FitsReader Open(string path)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            throw new FitsFormatException(path, "file not found");
        }
        catch (DirectoryNotFoundException)
        {
            throw new FitsFormatException(path, "file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FitsFormatException(path, $"cannot be opened ({e.Message})");
        }
        return Open(file, path);
    }

    /// <summary>
    /// Reads HDUs from a seekable stream named <paramref name="name"/> in messages (an object read by ranged GETs, say):
    /// the data of an HDU is sought over, never read, unless the stream is gzip-compressed. Unless
    /// <paramref name="leaveOpen"/>, the reader owns the stream.
    /// </summary>
    public static FitsReader Open(Stream stream, string name, bool leaveOpen = false)
    {
        if (!stream.CanSeek) throw new ArgumentException($"{name}: a FITS stream must be seekable", nameof(stream));
        Span<byte> magic = stackalloc byte[2];
        var n = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Position = 0;
        if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            return new FitsReader(new BufferedStream(new GZipStream(stream, CompressionMode.Decompress, leaveOpen), 1 << 20), name);
        return new FitsReader(stream, name, leaveOpen);
    }

    /// <summary>The next HDU's header, or null at the end of the file.</summary>
    public FitsHdu? ReadNextHeader()
    {
        if (_atEnd) return null;
        SkipPending();
        var cards = new List<string>();
        var block = new byte[FitsBlocks.BlockSize];
        var blocks = 0;
        while (true)
        {
            var got = ReadFully(block);
            if (got == 0 && blocks == 0)
            {
                if (_nextIndex == 0) throw new FitsFormatException(_path, "empty file, not FITS");
                _atEnd = true;
                return null;
            }
            if (got < block.Length)
            {
                if (_nextIndex == 0 && blocks == 0 && !StartsWithSimple(block, got))
                    throw new FitsFormatException(_path, "not a FITS file (it does not start with SIMPLE = T)");
                throw new FitsFormatException(_path, $"truncated: the header of HDU {_nextIndex} ends before its END card");
            }
            if (blocks == 0 && _nextIndex == 0 && !StartsWithSimple(block, got))
                throw new FitsFormatException(_path, "not a FITS file (it does not start with SIMPLE = T)");
            blocks++;
            for (var i = 0; i < FitsBlocks.BlockSize; i += FitsCardCodec.CardLength)
            {
                var span = block.AsSpan(i, FitsCardCodec.CardLength);
                foreach (var b in span)
                {
                    if (b is < 32 or > 126)
                        throw new FitsFormatException(_path, $"HDU {_nextIndex} header has a non-ASCII byte 0x{b:X2} (not a FITS header, or a corrupt one)");
                }
                var card = Encoding.ASCII.GetString(span);
                if (card.StartsWith("END     ", StringComparison.Ordinal) && card.AsSpan(3).Trim().IsEmpty)
                {
                    var header = FitsCardCodec.Decode(cards, _path);
                    var hdu = FitsHdu.FromHeader(_nextIndex++, header, _path);
                    _dataRemaining = hdu.DataBytes;
                    _paddingRemaining = hdu.PaddedDataBytes - hdu.DataBytes;
                    return hdu;
                }
                cards.Add(card);
            }
        }
    }

    /// <summary>Reads the next bytes of the data of the HDU whose header was read last (big-endian as stored).</summary>
    public void ReadData(Span<byte> destination)
    {
        if (destination.Length > _dataRemaining)
            throw new InvalidOperationException("reading past the data of the current HDU");
        var got = ReadFully(destination);
        _dataRemaining -= got;
        if (got < destination.Length)
            throw new FitsFormatException(_path, $"truncated: the data of HDU {_nextIndex - 1} end {_dataRemaining} bytes early");
    }

    /// <summary>Everything after the current position, raw (used to copy the rest of a file unchanged).</summary>
    public void CopyRestTo(Stream destination) => _stream.CopyTo(destination, 1 << 20);

    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }

    private void SkipPending()
    {
        if (_dataRemaining == 0 && _paddingRemaining == 0) return;
        if (_stream.CanSeek)
        {
            var remaining = _stream.Length - _stream.Position;
            if (remaining < _dataRemaining)
                throw new FitsFormatException(_path, $"truncated: the data of HDU {_nextIndex - 1} end {_dataRemaining - remaining} bytes early");
            // A missing final padding is tolerated (as CFITSIO does); missing data is not.
            _stream.Seek(Math.Min(_dataRemaining + _paddingRemaining, remaining), SeekOrigin.Current);
        }
        else
        {
            var buffer = new byte[1 << 16];
            while (_dataRemaining > 0)
            {
                var n = ReadFully(buffer.AsSpan(0, (int)Math.Min(buffer.Length, _dataRemaining)));
                if (n == 0)
                    throw new FitsFormatException(_path, $"truncated: the data of HDU {_nextIndex - 1} end {_dataRemaining} bytes early");
                _dataRemaining -= n;
            }
            ReadFully(buffer.AsSpan(0, (int)_paddingRemaining));
        }
        _dataRemaining = 0;
        _paddingRemaining = 0;
    }

    private int ReadFully(Span<byte> buffer)
    {
        var total = 0;
        try
        {
            while (total < buffer.Length)
            {
                var n = _stream.Read(buffer[total..]);
                if (n == 0) break;
                total += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw new FitsFormatException(_path, $"corrupt gzip compression ({e.Message})");
        }
        return total;
    }

    private static bool StartsWithSimple(byte[] block, int length) =>
        length >= 9 && Encoding.ASCII.GetString(block, 0, 9) == "SIMPLE  =";
}
