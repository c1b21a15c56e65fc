using System.Globalization;
using System.IO.Compression;
using System.Text;
using Rapid.Core.Storage;

namespace Rapid.Pipeline.Fits;

/// <summary>
/// Reads and writes FITS files (FITS Standard 4.0): big-endian data, 2880-byte blocks, 80-character cards.
/// Reading accepts plain and gzip-compressed files; writing goes through a temporary name and a rename
/// (<see cref="AtomicFile"/>) and gzip-compresses when the path ends in ".gz". Written files pass fitsverify.
/// </summary>
public static class FitsFile
{
    /// <summary>
    /// The image of a file: the primary HDU when it has data, else the extension named SCI,
    /// else the first image extension. BITPIX 8/16/32/64/-32/-64 with BSCALE/BZERO (integer BLANK becomes NaN).
    /// An extension image whose header says INHERIT = T also carries the primary header's keywords it lacks.
    /// </summary>
    public static FitsImage ReadImage(string path)
    {
        int? firstImage = null;
        FitsHeader? primary = null;
        using (var reader = FitsReader.Open(path))
        {
            while (reader.ReadNextHeader() is { } hdu)
            {
                if (hdu.Index == 0 && hdu.HasImageData) return FitsImageData.Read(reader, hdu);
                if (hdu.Index == 0) primary = hdu.Header;
                if (hdu.Index == 0 || !hdu.HasImageData) continue;
                if (string.Equals(hdu.ExtName, "SCI", StringComparison.OrdinalIgnoreCase)) return Inherited(FitsImageData.Read(reader, hdu), primary);
                firstImage ??= hdu.Index;
            }
        }
        if (firstImage is null) throw new FitsFormatException(path, "holds no image (no primary data and no IMAGE extension with data)");
        using (var reader = FitsReader.Open(path))
        {
            while (reader.ReadNextHeader() is { } hdu)
            {
                if (hdu.Index == firstImage) return Inherited(FitsImageData.Read(reader, hdu), primary);
            }
        }
        throw new FitsFormatException(path, $"extension {firstImage} disappeared while reading");
    }

    /// <summary>
    /// The size and header (without structural keywords) of the image <see cref="ReadImage(string)"/> would read,
    /// without reading its data: checking many large inputs costs a few header blocks each.
    /// </summary>
    public static FitsImageInfo ReadImageInfo(string path)
    {
        using var reader = FitsReader.Open(path);
        return ReadImageInfo(reader, path);
    }

    /// <summary>
    /// <see cref="ReadImageInfo(string)"/> of a seekable stream (named <paramref name="name"/> in messages), which it leaves open:
    /// only header blocks are read, the data are sought over (an S3 object read by ranged GETs reads only its headers).
    /// </summary>
    public static FitsImageInfo ReadImageInfo(Stream stream, string name)
    {
        stream.Position = 0;
        using var reader = FitsReader.Open(stream, name, leaveOpen: true);
        return ReadImageInfo(reader, name);
    }

    /// <summary><see cref="VerifyComplete(string)"/> of a seekable stream, which it leaves open: the headers are read, the data sought over.</summary>
    public static int VerifyComplete(Stream stream, string name)
    {
        stream.Position = 0;
        using var reader = FitsReader.Open(stream, name, leaveOpen: true);
        var count = 0;
        while (reader.ReadNextHeader() is not null) count++;
        return count;
    }

    private static FitsImageInfo ReadImageInfo(FitsReader reader, string path)
    {
        FitsHdu? firstImage = null;
        FitsHeader? primary = null;
        while (reader.ReadNextHeader() is { } hdu)
        {
            if (hdu.Index == 0 && hdu.HasImageData) return Info(path, hdu, null);
            if (hdu.Index == 0) primary = hdu.Header;
            if (hdu.Index == 0 || !hdu.HasImageData) continue;
            if (string.Equals(hdu.ExtName, "SCI", StringComparison.OrdinalIgnoreCase)) return Info(path, hdu, primary);
            firstImage ??= hdu;
        }
        return firstImage is not null ? Info(path, firstImage, primary)
            : throw new FitsFormatException(path, "holds no image (no primary data and no IMAGE extension with data)");

        static FitsImageInfo Info(string path, FitsHdu hdu, FitsHeader? primary)
        {
            if (hdu.Axes.Length < 2 || hdu.Axes.Skip(2).Any(a => a != 1) || hdu.Axes[0] > int.MaxValue || hdu.Axes[1] > int.MaxValue)
                throw new FitsFormatException(path, $"{hdu.Describe()} is not a 2-D image (NAXIS = {hdu.Axes.Length}, axes {string.Join(" x ", hdu.Axes)})");
            var header = FitsHdu.WithoutStructural(hdu.Header);
            InheritInto(header, primary);
            return new FitsImageInfo((int)hdu.Axes[0], (int)hdu.Axes[1], header);
        }
    }

    /// <summary>
    /// Checks that the file holds every byte its headers declare, reading only the headers and seeking over the data
    /// (a gzip file is decompressed through): a file still being written, or cut short, is a <see cref="FitsFormatException"/>
    /// naming the HDU whose header or data end early. Returns the number of HDUs.
    /// </summary>
    public static int VerifyComplete(string path)
    {
        using var reader = FitsReader.Open(path);
        var count = 0;
        while (reader.ReadNextHeader() is not null) count++;
        return count;
    }

    private static FitsImage Inherited(FitsImage image, FitsHeader? primary)
    {
        InheritInto(image.Header, primary);
        return image;
    }

    /// <summary>
    /// The FITS header inheritance convention (a registered FITS convention; HST, DECam and others write it): when an
    /// extension's header has INHERIT = T, the primary header's keywords that the extension does not define apply to it
    /// too (observation time, exposure, detector keywords are often only there). Structural and commentary cards are not inherited.
    /// </summary>
    private static void InheritInto(FitsHeader extension, FitsHeader? primary)
    {
        if (primary is null || extension.Find("INHERIT")?.Value?.Trim() != "T") return;
        foreach (var card in primary.Cards)
        {
            if (card.Value is null || FitsHdu.IsStructural(card.Key) || card.Key == "INHERIT" || extension.Contains(card.Key)) continue;
            extension.AddParsed(card);
        }
    }

    /// <summary>The image in the HDU with this EXTNAME ("PRIMARY" names the primary HDU).</summary>
    public static FitsImage ReadImage(string path, string extName)
    {
        using var reader = FitsReader.Open(path);
        var hdu = Seek(reader, extName);
        if (!hdu.IsImage) throw new FitsFormatException(path, $"{hdu.Describe()} is a {hdu.Xtension}, not an image");
        if (!hdu.HasImageData) throw new FitsFormatException(path, $"{hdu.Describe()} has no image data");
        return FitsImageData.Read(reader, hdu);
    }

    /// <summary>All keywords of the primary HDU, including the structural ones (SIMPLE, BITPIX, NAXIS, ...).</summary>
    public static FitsHeader ReadPrimaryHeader(string path)
    {
        using var reader = FitsReader.Open(path);
        return reader.ReadNextHeader()!.Header;
    }

    /// <summary>The binary table in the extension with this EXTNAME.</summary>
    public static FitsTable ReadTable(string path, string extName)
    {
        using var reader = FitsReader.Open(path);
        return FitsTableData.Read(reader, Seek(reader, extName));
    }

    /// <summary>The image as the primary HDU, BITPIX -32.</summary>
    public static void WriteImage(string path, FitsImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        Write(path, stream =>
        {
            WriteHeader(stream, ImageStructure(image, primary: true, extName: null), image.Header);
            FitsImageData.WriteFloats(stream, image.Pixels);
        });
    }

    /// <summary>A primary HDU without data (holding the given keywords) followed by the image as an IMAGE extension, BITPIX -32.</summary>
    public static void WriteImageExtension(string path, FitsHeader primary, FitsImage image, string extName = "SCI")
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentException.ThrowIfNullOrWhiteSpace(extName);
        FitsValueText.RequirePrintableAscii(extName, "the extension name");
        Write(path, stream =>
        {
            WriteHeader(stream, EmptyPrimaryStructure(), primary);
            WriteHeader(stream, ImageStructure(image, primary: false, extName), image.Header);
            FitsImageData.WriteFloats(stream, image.Pixels);
        });
    }

    /// <summary>A primary HDU without data (holding the given keywords) followed by the table as a BINTABLE extension.</summary>
    public static void WriteTable(string path, FitsHeader primary, FitsTable table)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(table);
        Write(path, stream =>
        {
            WriteHeader(stream, EmptyPrimaryStructure(), primary);
            WriteHeader(stream, FitsTableData.StructuralCards(table), table.Header);
            FitsTableData.WriteRows(stream, table);
        });
    }

    /// <summary>
    /// Copies a file with extra or replaced keywords in its primary header; all data are copied byte for byte.
    /// Each value is written as a FITS string, except text that is already quoted ('...', written as that string),
    /// an integer, a real number, or T/F (written as integer, real and logical).
    /// </summary>
    public static void UpdateKeywords(string sourcePath, string targetPath, IReadOnlyDictionary<string, string> keywords)
    {
        ArgumentNullException.ThrowIfNull(keywords);
        Write(targetPath, stream =>
        {
            using var reader = FitsReader.Open(sourcePath);
            var header = reader.ReadNextHeader()!.Header.Clone();
            foreach (var (key, value) in keywords)
            {
                if (FitsHdu.IsStructural(FitsValueText.NormalizeKey(key)))
                    throw new ArgumentException($"keyword {key} describes the data layout and cannot be updated");
                SetInferred(header, key, value);
            }
            WriteHeader(stream, [], header);
            reader.CopyRestTo(stream);
        });
    }

    private static void SetInferred(FitsHeader header, string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (FitsValueText.IsQuoted(value)) header.Set(key, FitsValueText.Unquote(value)!);
        else if (value is "T" or "F") header.Set(key, value == "T");
        else if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) header.Set(key, l);
        else if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)) header.Set(key, d);
        else header.Set(key, value);
    }

    private static FitsHdu Seek(FitsReader reader, string extName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(extName);
        var names = new List<string>();
        while (reader.ReadNextHeader() is { } hdu)
        {
            if (hdu.Index == 0 && string.Equals(extName, "PRIMARY", StringComparison.OrdinalIgnoreCase)) return hdu;
            if (string.Equals(hdu.ExtName, extName.Trim(), StringComparison.OrdinalIgnoreCase)) return hdu;
            if (hdu.ExtName is { } n) names.Add(n);
        }
        throw new FitsFormatException(reader.Path, $"has no extension named {extName} (extensions: {(names.Count == 0 ? "none named" : string.Join(", ", names))})");
    }

    private static IEnumerable<FitsCard> EmptyPrimaryStructure() =>
    [
        new("SIMPLE", "T", "conforms to FITS standard"),
        new("BITPIX", "8", "no data in the primary HDU"),
        new("NAXIS", "0", "no data in the primary HDU"),
        new("EXTEND", "T", "extensions follow"),
    ];

    private static IEnumerable<FitsCard> ImageStructure(FitsImage image, bool primary, string? extName)
    {
        yield return primary
            ? new FitsCard("SIMPLE", "T", "conforms to FITS standard")
            : new FitsCard("XTENSION", FitsValueText.Quote("IMAGE"), "image extension");
        yield return new FitsCard("BITPIX", "-32", "IEEE single precision floating point");
        yield return new FitsCard("NAXIS", "2", "2-dimensional image");
        yield return new FitsCard("NAXIS1", FitsValueText.FormatLong(image.Width), "image width in pixels");
        yield return new FitsCard("NAXIS2", FitsValueText.FormatLong(image.Height), "image height in pixels");
        if (primary)
        {
            yield return new FitsCard("EXTEND", "T", "extensions may follow");
        }
        else
        {
            yield return new FitsCard("PCOUNT", "0", "no extra parameters");
            yield return new FitsCard("GCOUNT", "1", "one group");
            yield return new FitsCard("EXTNAME", FitsValueText.Quote(extName!), "extension name");
        }
    }

    /// <summary>
    /// Structural cards, then the user's cards without any structural ones, END, blank padding to the block.
    /// LONGSTRN announces the CONTINUE long-string convention when it is used (HEASARC convention).
    /// </summary>
    private static void WriteHeader(Stream stream, IEnumerable<FitsCard> structure, FitsHeader user)
    {
        var sb = new StringBuilder();
        foreach (var card in structure) Append(sb, card);
        var writingStructure = sb.Length > 0;
        var body = new StringBuilder();
        foreach (var card in user.Cards)
        {
            // A rewritten whole header (UpdateKeywords) keeps its own structure; otherwise ours wins.
            if (writingStructure && FitsHdu.IsStructural(card.Key)) continue;
            Append(body, card);
        }
        var usesContinue = false;
        for (var i = 0; i < body.Length; i += FitsCardCodec.CardLength)
        {
            if (body.ToString(i, 8) == "CONTINUE") usesContinue = true;
        }
        if (usesContinue && !(user.Contains("LONGSTRN") && !writingStructure))
            Append(sb, new FitsCard("LONGSTRN", FitsValueText.Quote("OGIP 1.0"), "the OGIP long string convention may be used"));
        sb.Append(body);
        sb.Append("END".PadRight(FitsCardCodec.CardLength));
        var padded = (int)FitsBlocks.RoundUp(sb.Length);
        sb.Append(' ', padded - sb.Length);
        stream.Write(Encoding.ASCII.GetBytes(sb.ToString()));
    }

    private static void Append(StringBuilder sb, FitsCard card)
    {
        foreach (var record in FitsCardCodec.Encode(card)) sb.Append(record);
    }

    private static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        AtomicFile.Write(path, tmp =>
        {
            using var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            if (gzip)
            {
                using var z = new GZipStream(file, CompressionLevel.Fastest);
                write(z);
            }
            else
            {
                write(file);
            }
        });
    }
}
