using System.Buffers.Binary;
using System.Text;

namespace Rapid.Pipeline.Tests.Fits.Support;

/// <summary>Builds FITS bytes by hand, independently of the code under test, for reader tests.</summary>
public static class RawFits
{
    public static string Card(string key, string value) => $"{key,-8}= {value,20}".PadRight(80);

    public static byte[] Hdu(IEnumerable<string> cards, byte[] data)
    {
        var text = new StringBuilder();
        foreach (var c in cards) text.Append(c.PadRight(80));
        text.Append("END".PadRight(80));
        while (text.Length % 2880 != 0) text.Append(' ');
        var padded = (data.Length + 2879) / 2880 * 2880;
        var bytes = new byte[text.Length + padded];
        Encoding.ASCII.GetBytes(text.ToString(), bytes);
        data.CopyTo(bytes, text.Length);
        return bytes;
    }

    public static byte[] PrimaryImage(int bitpix, int width, int height, byte[] data, params string[] extraCards) =>
        Hdu([Card("SIMPLE", "T"), Card("BITPIX", bitpix.ToString()), Card("NAXIS", "2"), Card("NAXIS1", width.ToString()), Card("NAXIS2", height.ToString()), .. extraCards], data);

    public static byte[] EmptyPrimary() => Hdu([Card("SIMPLE", "T"), Card("BITPIX", "8"), Card("NAXIS", "0"), Card("EXTEND", "T")], []);

    public static byte[] ImageExtension(string extName, int width, int height, float[] pixels) =>
        Hdu([Card("XTENSION", "'IMAGE   '"), Card("BITPIX", "-32"), Card("NAXIS", "2"), Card("NAXIS1", width.ToString()), Card("NAXIS2", height.ToString()),
             Card("PCOUNT", "0"), Card("GCOUNT", "1"), Card("EXTNAME", $"'{extName}'")], BigEndian(pixels));

    public static byte[] BigEndian(float[] values)
    {
        var b = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleBigEndian(b.AsSpan(i * 4), values[i]);
        return b;
    }

    public static byte[] BigEndian(double[] values)
    {
        var b = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleBigEndian(b.AsSpan(i * 8), values[i]);
        return b;
    }

    public static byte[] BigEndian(short[] values)
    {
        var b = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt16BigEndian(b.AsSpan(i * 2), values[i]);
        return b;
    }

    public static byte[] BigEndian(int[] values)
    {
        var b = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(i * 4), values[i]);
        return b;
    }

    public static byte[] BigEndian(long[] values)
    {
        var b = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(i * 8), values[i]);
        return b;
    }
}
