using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Rapid.Pipeline.Fits;

/// <summary>
/// Converts image data between FITS big-endian storage and float pixels, in bulk over spans
/// (a 4088 x 4088 float image is one byte-swap pass, no per-pixel stream calls).
/// Physical value = BZERO + BSCALE x stored value (FITS Standard 4.0, section 5.3); integer BLANK becomes NaN.
/// </summary>
internal static class FitsImageData
{
    private const int ChunkBytes = 1 << 22; // multiple of 8, so a chunk never splits a value

    public static FitsImage Read(FitsReader reader, FitsHdu hdu)
    {
        var path = reader.Path;
        if (hdu.Axes.Length < 2 || hdu.Axes.Skip(2).Any(a => a != 1))
            throw new FitsFormatException(path, $"{hdu.Describe()} is not a 2-D image (NAXIS = {hdu.Axes.Length}, axes {string.Join(" x ", hdu.Axes)})");
        var (w, h) = (hdu.Axes[0], hdu.Axes[1]);
        if (w is 0 or > int.MaxValue || h is 0 or > int.MaxValue || w * h > Array.MaxLength)
            throw new FitsFormatException(path, $"{hdu.Describe()} has an unsupported image size {w} x {h}");
        var pixels = new float[w * h];
        double bscale, bzero;
        long? blank;
        try
        {
            bscale = hdu.Header.GetDouble("BSCALE") ?? 1.0;
            bzero = hdu.Header.GetDouble("BZERO") ?? 0.0;
            blank = hdu.Bitpix > 0 ? hdu.Header.GetLong("BLANK") : null;
        }
        catch (FormatException e)
        {
            throw new FitsFormatException(path, $"{hdu.Describe()}: {e.Message}");
        }

        if (hdu.Bitpix == -32)
        {
            // Read straight into the pixel array, then swap in place.
            const int chunkFloats = ChunkBytes / 4;
            for (var start = 0; start < pixels.Length; start += chunkFloats)
            {
                var part = pixels.AsSpan(start, Math.Min(chunkFloats, pixels.Length - start));
                reader.ReadData(MemoryMarshal.AsBytes(part));
                var ints = MemoryMarshal.Cast<float, int>(part);
                BinaryPrimitives.ReverseEndianness(ints, ints);
            }
            if (bscale != 1.0 || bzero != 0.0)
            {
                for (var i = 0; i < pixels.Length; i++) pixels[i] = (float)(bzero + bscale * pixels[i]);
            }
        }
        else
        {
            var size = Math.Abs(hdu.Bitpix) / 8;
            var buffer = new byte[ChunkBytes];
            var perChunk = ChunkBytes / size;
            for (var start = 0; start < pixels.Length; start += perChunk)
            {
                var n = Math.Min(perChunk, pixels.Length - start);
                var bytes = buffer.AsSpan(0, n * size);
                reader.ReadData(bytes);
                Convert(bytes, pixels.AsSpan(start, n), hdu.Bitpix, bscale, bzero, blank);
            }
        }
        return new FitsImage((int)w, (int)h, pixels, FitsHdu.WithoutStructural(hdu.Header));
    }

    private static void Convert(Span<byte> bytes, Span<float> dst, int bitpix, double bscale, double bzero, long? blank)
    {
        switch (bitpix)
        {
            case 8:
                for (var i = 0; i < dst.Length; i++) dst[i] = bytes[i] == blank ? float.NaN : (float)(bzero + bscale * bytes[i]);
                break;
            case 16:
            {
                var v = MemoryMarshal.Cast<byte, short>(bytes);
                BinaryPrimitives.ReverseEndianness(v, v);
                for (var i = 0; i < dst.Length; i++) dst[i] = v[i] == blank ? float.NaN : (float)(bzero + bscale * v[i]);
                break;
            }
            case 32:
            {
                var v = MemoryMarshal.Cast<byte, int>(bytes);
                BinaryPrimitives.ReverseEndianness(v, v);
                for (var i = 0; i < dst.Length; i++) dst[i] = v[i] == blank ? float.NaN : (float)(bzero + bscale * v[i]);
                break;
            }
            case 64:
            {
                var v = MemoryMarshal.Cast<byte, long>(bytes);
                BinaryPrimitives.ReverseEndianness(v, v);
                for (var i = 0; i < dst.Length; i++) dst[i] = v[i] == blank ? float.NaN : (float)(bzero + bscale * v[i]);
                break;
            }
            case -64:
            {
                var v = MemoryMarshal.Cast<byte, long>(bytes);
                BinaryPrimitives.ReverseEndianness(v, v);
                var d = MemoryMarshal.Cast<long, double>(v);
                for (var i = 0; i < dst.Length; i++) dst[i] = (float)(bzero + bscale * d[i]);
                break;
            }
            default:
                throw new InvalidOperationException($"BITPIX {bitpix} is handled elsewhere");
        }
    }

    /// <summary>Writes float pixels as big-endian IEEE-754 (BITPIX -32) followed by zero padding to the block.</summary>
    public static void WriteFloats(Stream stream, ReadOnlySpan<float> pixels)
    {
        var buffer = new byte[Math.Min(ChunkBytes, Math.Max(4, pixels.Length * 4))];
        var perChunk = buffer.Length / 4;
        for (var start = 0; start < pixels.Length; start += perChunk)
        {
            var n = Math.Min(perChunk, pixels.Length - start);
            var src = MemoryMarshal.Cast<float, int>(pixels.Slice(start, n));
            BinaryPrimitives.ReverseEndianness(src, MemoryMarshal.Cast<byte, int>(buffer.AsSpan(0, n * 4)));
            stream.Write(buffer, 0, n * 4);
        }
        WritePadding(stream, (long)pixels.Length * 4, 0);
    }

    public static void WritePadding(Stream stream, long dataBytes, byte fill)
    {
        var pad = (int)(FitsBlocks.RoundUp(dataBytes) - dataBytes);
        if (pad == 0) return;
        Span<byte> padding = stackalloc byte[pad];
        padding.Fill(fill);
        stream.Write(padding);
    }
}
