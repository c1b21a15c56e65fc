using System.Text.RegularExpressions;

namespace Rapid.Pipeline.Fits;

/// <summary>
/// The header of one HDU with its structural keywords decoded: what kind of HDU it is and how many
/// data bytes follow (FITS Standard 4.0, section 4.4.1: |BITPIX|/8 x GCOUNT x (PCOUNT + NAXIS1 x ... x NAXISn)).
/// </summary>
internal sealed partial class FitsHdu
{
    private FitsHdu(int index, FitsHeader header, string xtension, int bitpix, long[] axes, long dataBytes)
    {
        Index = index;
        Header = header;
        Xtension = xtension;
        Bitpix = bitpix;
        Axes = axes;
        DataBytes = dataBytes;
    }

    /// <summary>0 for the primary HDU.</summary>
    public int Index { get; }

    /// <summary>All keywords including the structural ones.</summary>
    public FitsHeader Header { get; }

    /// <summary>"" for the primary HDU, else the XTENSION value (IMAGE, BINTABLE, ...).</summary>
    public string Xtension { get; }

    public int Bitpix { get; }

    /// <summary>NAXIS1..NAXISn.</summary>
    public long[] Axes { get; }

    /// <summary>Data bytes without the padding to the 2880-byte block.</summary>
    public long DataBytes { get; }

    public long PaddedDataBytes => FitsBlocks.RoundUp(DataBytes);

    public string? ExtName => Header.GetString("EXTNAME")?.Trim();

    public bool IsImage => Xtension is "" or "IMAGE";

    public bool HasImageData => IsImage && Axes.Length >= 1 && DataBytes > 0;

    public string Describe() => Index == 0 ? "the primary HDU" : $"extension {Index}" + (ExtName is { } n ? $" ({n})" : "");

    public static FitsHdu FromHeader(int index, FitsHeader header, string path)
    {
        string xtension;
        if (index == 0)
        {
            if (header.Cards.Count == 0 || header.Cards[0].Key != "SIMPLE")
                throw new FitsFormatException(path, "not a FITS file (it does not start with SIMPLE = T)");
            if (header.Cards[0].Value != "T")
                throw new FitsFormatException(path, "SIMPLE = F: the file does not conform to the FITS standard");
            xtension = "";
        }
        else
        {
            if (header.Cards.Count == 0 || header.Cards[0].Key != "XTENSION")
                throw new FitsFormatException(path, $"extension {index} does not start with XTENSION");
            xtension = header.GetString("XTENSION")!.Trim();
        }

        var bitpix = (int)Required(header, "BITPIX", path, index);
        if (bitpix is not (8 or 16 or 32 or 64 or -32 or -64))
            throw new FitsFormatException(path, $"HDU {index} has invalid BITPIX = {bitpix}");
        var naxis = Required(header, "NAXIS", path, index);
        if (naxis is < 0 or > 999) throw new FitsFormatException(path, $"HDU {index} has invalid NAXIS = {naxis}");
        var axes = new long[naxis];
        for (var i = 0; i < naxis; i++)
        {
            axes[i] = Required(header, $"NAXIS{i + 1}", path, index);
            if (axes[i] < 0) throw new FitsFormatException(path, $"HDU {index} has negative NAXIS{i + 1}");
        }
        var pcount = index == 0 ? 0 : Optional(header, "PCOUNT", path, index) ?? 0;
        var gcount = index == 0 ? 1 : Optional(header, "GCOUNT", path, index) ?? 1;
        long elements = 0;
        if (naxis > 0)
        {
            elements = 1;
            // Random groups (NAXIS1 = 0 in the primary) are not images; their size still follows the same rule.
            foreach (var a in axes.Skip(index == 0 && axes[0] == 0 ? 1 : 0)) elements = checked(elements * a);
        }
        var dataBytes = naxis == 0 ? 0 : checked(Math.Abs(bitpix) / 8 * gcount * (pcount + elements));
        return new FitsHdu(index, header, xtension, bitpix, axes, dataBytes);
    }

    private static long Required(FitsHeader header, string key, string path, int index) =>
        Optional(header, key, path, index) ?? throw new FitsFormatException(path, $"HDU {index} lacks the required keyword {key}");

    private static long? Optional(FitsHeader header, string key, string path, int index)
    {
        try
        {
            return header.GetLong(key);
        }
        catch (FormatException e)
        {
            throw new FitsFormatException(path, $"HDU {index}: {e.Message}");
        }
    }

    /// <summary>Keywords that describe the data layout; FitsFile writes them itself, so they are kept out of user headers.</summary>
    public static bool IsStructural(string key) =>
        key is "SIMPLE" or "BITPIX" or "NAXIS" or "EXTEND" or "XTENSION" or "PCOUNT" or "GCOUNT" or "EXTNAME" or "BSCALE" or "BZERO"
            or "BLANK" or "END" or "CHECKSUM" or "DATASUM" or "TFIELDS" or "THEAP" or "LONGSTRN" or "CONTINUE"
        || StructuralIndexed().IsMatch(key);

    public static FitsHeader WithoutStructural(FitsHeader header)
    {
        var result = new FitsHeader();
        foreach (var c in header.Cards)
        {
            if (!IsStructural(c.Key)) result.AddParsed(c);
        }
        return result;
    }

    [GeneratedRegex(@"^(NAXIS|TTYPE|TFORM|TUNIT|TSCAL|TZERO|TNULL|TDIM|TDISP|TBCOL)\d+$")]
    private static partial Regex StructuralIndexed();
}

internal static class FitsBlocks
{
    public const int BlockSize = 2880;

    public static long RoundUp(long bytes) => (bytes + BlockSize - 1) / BlockSize * BlockSize;
}
