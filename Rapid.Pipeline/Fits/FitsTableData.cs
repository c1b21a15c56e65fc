using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Rapid.Pipeline.Fits;

/// <summary>Reads and writes BINTABLE rows (FITS Standard 4.0, section 7.3): big-endian fields, rows of NAXIS1 bytes.</summary>
internal static partial class FitsTableData
{
    public static FitsTable Read(FitsReader reader, FitsHdu hdu)
    {
        var path = reader.Path;
        var where = hdu.Describe();
        if (hdu.Xtension != "BINTABLE") throw new FitsFormatException(path, $"{where} is a {(hdu.Index == 0 ? "primary array" : hdu.Xtension)}, not a binary table");
        if (hdu.Axes.Length != 2) throw new FitsFormatException(path, $"{where} is a binary table with NAXIS = {hdu.Axes.Length}, not 2");
        var (rowBytes, rows) = (hdu.Axes[0], hdu.Axes[1]);
        if (rowBytes * rows > Array.MaxLength) throw new FitsFormatException(path, $"{where} is too large to read whole ({rowBytes} x {rows} bytes)");
        var h = hdu.Header;
        int fields;
        try
        {
            fields = (int)(h.GetLong("TFIELDS") ?? throw new FitsFormatException(path, $"{where} lacks the required keyword TFIELDS"));
        }
        catch (FormatException e)
        {
            throw new FitsFormatException(path, $"{where}: {e.Message}");
        }

        var data = new byte[rowBytes * rows];
        reader.ReadData(data);

        var table = new FitsTable(hdu.ExtName ?? $"HDU{hdu.Index}");
        foreach (var c in FitsHdu.WithoutStructural(h).Cards) table.Header.AddParsed(c);
        var offset = 0;
        for (var n = 1; n <= fields; n++)
        {
            var tform = h.GetString($"TFORM{n}")?.Trim() ?? throw new FitsFormatException(path, $"{where} lacks TFORM{n}");
            var name = h.GetString($"TTYPE{n}")?.Trim() ?? $"COL{n}";
            var m = TForm().Match(tform);
            if (!m.Success) throw new FitsFormatException(path, $"{where} column {name} has an invalid TFORM{n} = '{tform}'");
            var repeat = m.Groups[1].Value.Length == 0 ? 1 : int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var type = m.Groups[2].Value[0];
            var elementBytes = type switch
            {
                'L' or 'X' or 'B' or 'A' => 1,
                'I' => 2,
                'J' or 'E' => 4,
                'K' or 'D' or 'C' or 'P' => 8,
                'M' or 'Q' => 16,
                _ => 1,
            };
            var fieldBytes = type == 'X' ? (repeat + 7) / 8 : repeat * elementBytes;
            var supported = type == 'A' ? repeat >= 1 : repeat == 1 && type is 'B' or 'I' or 'J' or 'K' or 'E' or 'D';
            if (!supported)
            {
                throw new FitsFormatException(path, $"{where} column {name} has TFORM{n} = '{tform}'; only scalar B/I/J/K/E/D and nA columns are supported");
            }
            if (offset + fieldBytes > rowBytes) throw new FitsFormatException(path, $"{where} columns are wider than NAXIS1 = {rowBytes}");
            double scale, zero;
            try
            {
                scale = h.GetDouble($"TSCAL{n}") ?? 1.0;
                zero = h.GetDouble($"TZERO{n}") ?? 0.0;
            }
            catch (FormatException e)
            {
                throw new FitsFormatException(path, $"{where}: {e.Message}");
            }
            var values = Decode(data, (int)rowBytes, (int)rows, offset, type, repeat);
            table.Add(new FitsColumn(name, type, repeat, h.GetString($"TUNIT{n}")?.Trim(), values, scale, zero));
            offset += fieldBytes;
        }
        return table;
    }

    private static Array Decode(byte[] data, int rowBytes, int rows, int offset, char type, int width)
    {
        ReadOnlySpan<byte> At(int row, int bytes) => data.AsSpan(row * rowBytes + offset, bytes);
        switch (type)
        {
            case 'A':
            {
                var v = new string[rows];
                for (var r = 0; r < rows; r++)
                {
                    var s = At(r, width);
                    var nul = s.IndexOf((byte)0);
                    v[r] = Encoding.ASCII.GetString(nul >= 0 ? s[..nul] : s).TrimEnd(' ');
                }
                return v;
            }
            case 'B':
            {
                var v = new byte[rows];
                for (var r = 0; r < rows; r++) v[r] = data[r * rowBytes + offset];
                return v;
            }
            case 'I':
            {
                var v = new short[rows];
                for (var r = 0; r < rows; r++) v[r] = BinaryPrimitives.ReadInt16BigEndian(At(r, 2));
                return v;
            }
            case 'J':
            {
                var v = new int[rows];
                for (var r = 0; r < rows; r++) v[r] = BinaryPrimitives.ReadInt32BigEndian(At(r, 4));
                return v;
            }
            case 'K':
            {
                var v = new long[rows];
                for (var r = 0; r < rows; r++) v[r] = BinaryPrimitives.ReadInt64BigEndian(At(r, 8));
                return v;
            }
            case 'E':
            {
                var v = new float[rows];
                for (var r = 0; r < rows; r++) v[r] = BinaryPrimitives.ReadSingleBigEndian(At(r, 4));
                return v;
            }
            case 'D':
            {
                var v = new double[rows];
                for (var r = 0; r < rows; r++) v[r] = BinaryPrimitives.ReadDoubleBigEndian(At(r, 8));
                return v;
            }
            default:
                throw new InvalidOperationException($"TFORM type {type} is not supported");
        }
    }

    /// <summary>The structural keywords of a BINTABLE holding these columns.</summary>
    public static IEnumerable<FitsCard> StructuralCards(FitsTable table)
    {
        var rowBytes = table.Columns.Sum(c => c.ByteWidth);
        yield return new FitsCard("XTENSION", FitsValueText.Quote("BINTABLE"), "binary table extension");
        yield return new FitsCard("BITPIX", "8", "8-bit bytes");
        yield return new FitsCard("NAXIS", "2", "2-dimensional table");
        yield return new FitsCard("NAXIS1", FitsValueText.FormatLong(rowBytes), "width of a row in bytes");
        yield return new FitsCard("NAXIS2", FitsValueText.FormatLong(table.RowCount), "number of rows");
        yield return new FitsCard("PCOUNT", "0", "no heap");
        yield return new FitsCard("GCOUNT", "1", "one group");
        yield return new FitsCard("TFIELDS", FitsValueText.FormatLong(table.Columns.Count), "number of columns");
        for (var i = 0; i < table.Columns.Count; i++)
        {
            var c = table.Columns[i];
            yield return new FitsCard($"TTYPE{i + 1}", FitsValueText.Quote(c.Name), null);
            yield return new FitsCard($"TFORM{i + 1}", FitsValueText.Quote(c.TForm), null);
            if (c.Unit is not null) yield return new FitsCard($"TUNIT{i + 1}", FitsValueText.Quote(c.Unit), null);
            if (c.Scale != 1.0) yield return new FitsCard($"TSCAL{i + 1}", FitsValueText.FormatDouble(c.Scale), null);
            if (c.Zero != 0.0) yield return new FitsCard($"TZERO{i + 1}", FitsValueText.FormatDouble(c.Zero), null);
        }
        yield return new FitsCard("EXTNAME", FitsValueText.Quote(table.ExtName), null);
    }

    public static void WriteRows(Stream stream, FitsTable table)
    {
        var rowBytes = table.Columns.Sum(c => c.ByteWidth);
        if (rowBytes == 0 || table.RowCount == 0) return;
        var rowsPerChunk = Math.Max(1, (1 << 20) / rowBytes);
        var buffer = new byte[rowsPerChunk * rowBytes];
        for (var start = 0; start < table.RowCount; start += rowsPerChunk)
        {
            var n = Math.Min(rowsPerChunk, table.RowCount - start);
            Array.Clear(buffer);
            var offset = 0;
            foreach (var c in table.Columns)
            {
                for (var r = 0; r < n; r++)
                {
                    var field = buffer.AsSpan(r * rowBytes + offset, c.ByteWidth);
                    var row = start + r;
                    switch (c.Values)
                    {
                        case string[] s: Encoding.ASCII.GetBytes(s[row], field); field[s[row].Length..].Fill((byte)' '); break;
                        case byte[] b: field[0] = b[row]; break;
                        case short[] i: BinaryPrimitives.WriteInt16BigEndian(field, i[row]); break;
                        case int[] j: BinaryPrimitives.WriteInt32BigEndian(field, j[row]); break;
                        case long[] k: BinaryPrimitives.WriteInt64BigEndian(field, k[row]); break;
                        case float[] e: BinaryPrimitives.WriteSingleBigEndian(field, e[row]); break;
                        case double[] d: BinaryPrimitives.WriteDoubleBigEndian(field, d[row]); break;
                    }
                }
                offset += c.ByteWidth;
            }
            stream.Write(buffer, 0, n * rowBytes);
        }
        FitsImageData.WritePadding(stream, (long)rowBytes * table.RowCount, 0);
    }

    [GeneratedRegex(@"^(\d*)([LXBIJKAEDCMPQ])(.*)$")]
    private static partial Regex TForm();
}
