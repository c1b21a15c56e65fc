using System.IO.Compression;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Tests.Fits.Support;

namespace Rapid.Pipeline.Tests.Fits;

public sealed class FitsFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static FitsImage Gradient(int width, int height)
    {
        var image = new FitsImage(width, height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                image[x, y] = x + 1000f * y + 0.25f;
        return image;
    }

    [Fact]
    public void Image_round_trips_pixels_NaN_and_keywords()
    {
        var image = Gradient(37, 23);
        image[3, 4] = float.NaN;
        image[5, 6] = float.NegativeInfinity;
        image[0, 0] = float.Epsilon;
        image.Header.Set("OBJECT", "it's a test", "with a quote");
        image.Header.Set("ANGLE", 359.99999999912345);
        image.Header.Set("TINY", 1e-300);
        image.Header.Set("NREADS", -7L);
        image.Header.Set("SATURATE", false);
        image.Header.Set("FILENAME", new string('x', 150) + "/end.fits", "a long path");
        image.Header.Set("ESO DET GAIN", 1.75, "HIERARCH convention");
        image.Header.AddHistory("made by a test");
        image.Header.AddComment(new string('c', 100));
        var path = _dir.File("round.fits");

        FitsFile.WriteImage(path, image);
        var back = FitsFile.ReadImage(path);

        Assert.Equal((37, 23), (back.Width, back.Height));
        Assert.Equal(image.Pixels, back.Pixels);
        Assert.Equal("it's a test", back.Header.GetString("OBJECT"));
        Assert.Equal(359.99999999912345, back.Header.GetDouble("ANGLE"));
        Assert.Equal(1e-300, back.Header.GetDouble("TINY"));
        Assert.Equal(-7L, back.Header.GetLong("NREADS"));
        Assert.False(back.Header.GetBool("SATURATE"));
        Assert.Equal(new string('x', 150) + "/end.fits", back.Header.GetString("FILENAME"));
        Assert.Equal(1.75, back.Header.GetDouble("ESO DET GAIN"));
        Assert.Contains(back.Header.Cards, c => c.Key == "HISTORY" && c.Comment == "made by a test");
        Assert.False(back.Header.Contains("NAXIS1")); // structural keywords stay out of the user header
        Assert.Equal(0, new FileInfo(path).Length % 2880);
        FitsVerify.AssertValid(path);
    }

    [Fact]
    public void Astropy_reads_written_image_and_keywords()
    {
        var image = Gradient(16, 9);
        image[2, 1] = float.NaN;
        image.Header.Set("OBJECT", "it's here");
        image.Header.Set("LONGSTR", new string('y', 100));
        var path = _dir.File("astropy.fits");
        FitsFile.WriteImageExtension(path, new FitsHeader(), image);

        var output = Astropy.Run(
            "import sys, numpy as np; from astropy.io import fits\n" +
            "h = fits.open(sys.argv[1])['SCI']; d = h.data\n" +
            "print(d.shape[1], d.shape[0], repr(float(d[1, 2])), repr(float(d[8, 15])), h.header['OBJECT'], len(h.header['LONGSTR']))",
            path);

        Assert.Equal($"16 9 nan {15 + 8000 + 0.25} it's here 100", output.Trim());
    }

    [Fact]
    public void Reads_files_written_by_astropy()
    {
        var path = _dir.File("from-astropy.fits.gz");
        Astropy.Run(
            "import sys, numpy as np; from astropy.io import fits\n" +
            "p = fits.PrimaryHDU(np.arange(20, dtype=np.uint16).reshape(4, 5) * 3000)\n" +
            "p.header['LONGVAL'] = 'x' * 100 + \"it's\"\n" +
            "p.header['HIERARCH ESO DET GAIN'] = 1.75\n" +
            "p.header['FLAG'] = True\n" +
            "s = fits.ImageHDU(np.array([[1.5, np.nan], [-2.0, 3e30]], dtype='>f4'), name='SCI')\n" +
            "t = fits.BinTableHDU.from_columns([fits.Column('mag', 'D', array=np.array([20.5, 21.25])), fits.Column('id', 'J', array=np.array([7, -8])),\n" +
            "    fits.Column('u', 'I', bzero=32768, array=np.array([0, 65535], dtype=np.uint16)), fits.Column('name', '6A', array=np.array(['ab', 'cdef']))], name='CAT')\n" +
            "fits.HDUList([p, s, t]).writeto(sys.argv[1])\n",
            path);

        var primary = FitsFile.ReadImage(path);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i * 3000f), primary.Pixels);
        Assert.Equal(new string('x', 100) + "it's", primary.Header.GetString("LONGVAL"));
        Assert.Equal(1.75, primary.Header.GetDouble("ESO DET GAIN"));
        Assert.True(primary.Header.GetBool("FLAG"));
        var sci = FitsFile.ReadImage(path, "SCI");
        Assert.Equal(1.5f, sci[0, 0]);
        Assert.True(float.IsNaN(sci[1, 0]));
        Assert.Equal(3e30f, sci[1, 1]);
        var table = FitsFile.ReadTable(path, "CAT");
        Assert.Equal([20.5, 21.25], table.GetDoubles("mag"));
        Assert.Equal([7L, -8], table.GetLongs("id"));
        Assert.Equal([0L, 65535], table.GetLongs("u"));
        Assert.Equal(["ab", "cdef"], table.GetStrings("name"));
    }

    [Theory]
    [InlineData(".fits")]
    [InlineData(".fits.gz")]
    public void Written_extension_image_and_table_files_pass_fitsverify(string suffix)
    {
        var primary = new FitsHeader();
        primary.Set("TELESCOP", "Roman");
        var imagePath = _dir.File("ext" + suffix);
        FitsFile.WriteImageExtension(imagePath, primary, Gradient(10, 12), "DIFF");
        FitsVerify.AssertValid(imagePath);

        var tablePath = _dir.File("table" + suffix);
        FitsFile.WriteTable(tablePath, primary, SampleTable());
        FitsVerify.AssertValid(tablePath);
    }

    [Fact]
    public void Image_extension_round_trips_and_primary_keywords_are_kept()
    {
        var primary = new FitsHeader();
        primary.Set("FID", 5L);
        var path = _dir.File("sci.fits");
        FitsFile.WriteImageExtension(path, primary, Gradient(8, 5));

        Assert.Equal(Gradient(8, 5).Pixels, FitsFile.ReadImage(path).Pixels);
        Assert.Equal(Gradient(8, 5).Pixels, FitsFile.ReadImage(path, "sci").Pixels);
        Assert.Equal(5L, FitsFile.ReadPrimaryHeader(path).GetLong("FID"));
        Assert.Equal(0L, FitsFile.ReadPrimaryHeader(path).GetLong("NAXIS"));
    }

    [Fact]
    public void ReadImage_prefers_primary_data_then_SCI_then_the_first_image_extension()
    {
        float[] a = [1, 2, 3, 4], b = [5, 6, 7, 8], c = [9, 10, 11, 12];
        var withPrimary = _dir.File("p.fits");
        File.WriteAllBytes(withPrimary, [.. RawFits.PrimaryImage(-32, 2, 2, RawFits.BigEndian(a), RawFits.Card("EXTEND", "T")), .. RawFits.ImageExtension("SCI", 2, 2, b)]);
        var sciSecond = _dir.File("s.fits");
        File.WriteAllBytes(sciSecond, [.. RawFits.EmptyPrimary(), .. RawFits.ImageExtension("MASK", 2, 2, c), .. RawFits.ImageExtension("SCI", 2, 2, b)]);
        var noSci = _dir.File("n.fits");
        File.WriteAllBytes(noSci, [.. RawFits.EmptyPrimary(), .. RawFits.ImageExtension("MASK", 2, 2, c), .. RawFits.ImageExtension("UNC", 2, 2, a)]);

        Assert.Equal(a, FitsFile.ReadImage(withPrimary).Pixels);
        Assert.Equal(b, FitsFile.ReadImage(sciSecond).Pixels);
        Assert.Equal(c, FitsFile.ReadImage(noSci).Pixels);
        Assert.Equal(a, FitsFile.ReadImage(noSci, "UNC").Pixels);
        var e = Assert.Throws<FitsFormatException>(() => FitsFile.ReadImage(noSci, "SCI"));
        Assert.Contains(noSci, e.Message);
        Assert.Contains("MASK, UNC", e.Message);
    }

    [Fact]
    public void ReadImageInfo_describes_the_image_ReadImage_reads_without_its_data()
    {
        float[] a = [1, 2, 3, 4, 5, 6], b = [5, 6, 7, 8];
        var sciSecond = _dir.File("s.fits");
        File.WriteAllBytes(sciSecond, [.. RawFits.EmptyPrimary(), .. RawFits.ImageExtension("MASK", 3, 2, a), .. RawFits.ImageExtension("SCI", 2, 2, b)]);
        var noSci = _dir.File("n.fits");
        File.WriteAllBytes(noSci, [.. RawFits.EmptyPrimary(), .. RawFits.ImageExtension("MASK", 3, 2, a), .. RawFits.ImageExtension("UNC", 2, 2, b)]);
        var tableOnly = _dir.File("t.fits");
        var table = new FitsTable("CAT");
        table.AddColumn("ID", new long[] { 1, 2 });
        FitsFile.WriteTable(tableOnly, new FitsHeader(), table);

        var sci = FitsFile.ReadImageInfo(sciSecond);
        var first = FitsFile.ReadImageInfo(noSci);

        // The sizes tell the extensions apart (EXTNAME is structural, so not in the header returned).
        Assert.Equal((2, 2), (sci.Width, sci.Height));
        Assert.Equal((3, 2), (first.Width, first.Height));
        Assert.False(sci.Header.Contains("NAXIS1"));
        var e = Assert.Throws<FitsFormatException>(() => FitsFile.ReadImageInfo(tableOnly));
        Assert.Contains("holds no image", e.Message);
    }

    [Fact]
    public void Integer_and_double_BITPIX_are_scaled_with_BSCALE_BZERO_and_BLANK_is_NaN()
    {
        short[] u16 = [-32768, -1, 0, 32767]; // with BZERO 32768: unsigned 0, 32767, 32768, 65535
        var p16 = _dir.File("i16.fits");
        File.WriteAllBytes(p16, RawFits.PrimaryImage(16, 2, 2, RawFits.BigEndian(u16), RawFits.Card("BZERO", "32768"), RawFits.Card("BSCALE", "1")));
        Assert.Equal([0f, 32767f, 32768f, 65535f], FitsFile.ReadImage(p16).Pixels);

        int[] i32 = [10, -20, 999, 40];
        var p32 = _dir.File("i32.fits");
        File.WriteAllBytes(p32, RawFits.PrimaryImage(32, 4, 1, RawFits.BigEndian(i32), RawFits.Card("BSCALE", "0.5"), RawFits.Card("BZERO", "100.0"), RawFits.Card("BLANK", "999")));
        var r32 = FitsFile.ReadImage(p32).Pixels;
        Assert.Equal([105f, 90f], r32[..2]);
        Assert.True(float.IsNaN(r32[2]));
        Assert.Equal(120f, r32[3]);

        var p8 = _dir.File("u8.fits");
        File.WriteAllBytes(p8, RawFits.PrimaryImage(8, 3, 1, [0, 128, 255], RawFits.Card("BSCALE", "2.0D0")));
        Assert.Equal([0f, 256f, 510f], FitsFile.ReadImage(p8).Pixels);

        var p64 = _dir.File("i64.fits");
        File.WriteAllBytes(p64, RawFits.PrimaryImage(64, 2, 1, RawFits.BigEndian(new long[] { 1L << 40, -3 })));
        Assert.Equal([(float)(1L << 40), -3f], FitsFile.ReadImage(p64).Pixels);

        var pd = _dir.File("d.fits");
        File.WriteAllBytes(pd, RawFits.PrimaryImage(-64, 3, 1, RawFits.BigEndian(new[] { 1.5, double.NaN, -2e10 })));
        var rd = FitsFile.ReadImage(pd).Pixels;
        Assert.Equal(1.5f, rd[0]);
        Assert.True(float.IsNaN(rd[1]));
        Assert.Equal(-2e10f, rd[2]);

        var pf = _dir.File("f.fits");
        File.WriteAllBytes(pf, RawFits.PrimaryImage(-32, 2, 1, RawFits.BigEndian(new[] { 1f, 2f }), RawFits.Card("BSCALE", "3.0"), RawFits.Card("BZERO", "-1.0")));
        Assert.Equal([2f, 5f], FitsFile.ReadImage(pf).Pixels);
    }

    [Fact]
    public void Gzip_compressed_files_are_read()
    {
        var plain = _dir.File("plain.fits");
        var image = Gradient(30, 20);
        image.Header.Set("BAND", "F087");
        FitsFile.WriteImageExtension(plain, new FitsHeader(), image);
        var gz = _dir.File("copy.fits.gz");
        using (var src = File.OpenRead(plain))
        using (var dst = new GZipStream(File.Create(gz), CompressionLevel.Optimal))
            src.CopyTo(dst);

        var back = FitsFile.ReadImage(gz);
        Assert.Equal(image.Pixels, back.Pixels);
        Assert.Equal("F087", back.Header.GetString("BAND"));
    }

    [Fact]
    public void Binary_table_round_trips_every_column_type()
    {
        var primary = new FitsHeader();
        primary.Set("PIPELINE", "rapid");
        var table = SampleTable();
        table.Header.Set("ZPMAG", 26.5);
        var path = _dir.File("t.fits");

        FitsFile.WriteTable(path, primary, table);
        var back = FitsFile.ReadTable(path, "CATALOG");

        Assert.Equal(3, back.RowCount);
        Assert.Equal(["ra", "flux", "id", "big", "flag", "name"], back.ColumnNames);
        Assert.Equal([10.5, 0, 359.999999999], back.GetDoubles("ra"));
        var flux = back.GetDoubles("flux");
        Assert.Equal([1.25, -3], flux[..2]);
        Assert.True(double.IsNaN(flux[2]));
        Assert.Equal([1L, -2, int.MaxValue], back.GetLongs("id"));
        Assert.Equal([long.MinValue, 0, long.MaxValue], back.GetLongs("big"));
        Assert.Equal([0L, 1, short.MinValue], back.GetLongs("flag"));
        Assert.Equal(["alpha", "", "o'brien"], back.GetStrings("name"));
        Assert.Equal(26.5, back.Header.GetDouble("ZPMAG"));
        Assert.Equal("rapid", FitsFile.ReadPrimaryHeader(path).GetString("PIPELINE"));
        Assert.Throws<InvalidOperationException>(() => back.GetStrings("ra"));
        Assert.Throws<KeyNotFoundException>(() => back.GetDoubles("dec"));
    }

    [Fact]
    public void Empty_table_is_valid_FITS_and_reads_back_empty()
    {
        var path = _dir.File("empty-table.fits");
        var table = new FitsTable("SOURCES");
        table.AddColumn("flux", Array.Empty<double>());
        FitsFile.WriteTable(path, new FitsHeader(), table);

        FitsVerify.AssertValid(path);
        var back = FitsFile.ReadTable(path, "SOURCES");
        Assert.Equal(0, back.RowCount);
        Assert.Equal(["flux"], back.ColumnNames);
    }

    [Fact]
    public void Table_columns_must_have_equal_lengths()
    {
        var table = new FitsTable("T");
        table.AddColumn("a", new[] { 1.0, 2.0 });
        Assert.Throws<ArgumentException>(() => table.AddColumn("b", new[] { 1 }));
        Assert.Throws<ArgumentException>(() => table.AddColumn("c", ["toolong"], 3));
    }

    [Fact]
    public void UpdateKeywords_adds_keywords_and_copies_data_byte_for_byte()
    {
        var source = _dir.File("src.fits");
        FitsFile.WriteImageExtension(source, new FitsHeader(), Gradient(50, 40));
        var target = _dir.File("dst.fits");

        FitsFile.UpdateKeywords(source, target, new Dictionary<string, string>
        {
            ["FIELD"] = "5321", ["ZPTMAG"] = "26.25", ["CHECKED"] = "T", ["VERSION"] = "v1.2", ["CODE"] = "'007'",
        });

        var h = FitsFile.ReadPrimaryHeader(target);
        Assert.Equal(5321L, h.GetLong("FIELD"));
        Assert.Equal(26.25, h.GetDouble("ZPTMAG"));
        Assert.True(h.GetBool("CHECKED"));
        Assert.Equal("v1.2", h.GetString("VERSION"));
        Assert.Equal("'007'", h.Find("CODE")!.Value);
        var src = File.ReadAllBytes(source);
        var dst = File.ReadAllBytes(target);
        Assert.Equal(src[2880..], dst[(dst.Length - (src.Length - 2880))..]);
        Assert.Equal(Gradient(50, 40).Pixels, FitsFile.ReadImage(target).Pixels);
        FitsVerify.AssertValid(target);
    }

    [Fact]
    public void Not_FITS_file_gives_FitsFormatException_naming_the_file()
    {
        var path = _dir.File("notes.fits");
        File.WriteAllText(path, "this is not FITS at all, just some text\n");
        var e = Assert.Throws<FitsFormatException>(() => FitsFile.ReadImage(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a FITS file", e.Message);

        var empty = _dir.File("empty.fits");
        File.WriteAllBytes(empty, []);
        Assert.Contains(empty, Assert.Throws<FitsFormatException>(() => FitsFile.ReadPrimaryHeader(empty)).Message);

        var missing = _dir.File("missing.fits");
        Assert.Contains(missing, Assert.Throws<FitsFormatException>(() => FitsFile.ReadImage(missing)).Message);
    }

    [Fact]
    public void Truncated_files_give_FitsFormatException_naming_the_file()
    {
        var full = _dir.File("full.fits");
        FitsFile.WriteImage(full, Gradient(100, 100));
        var bytes = File.ReadAllBytes(full);

        var shortData = _dir.File("short-data.fits");
        File.WriteAllBytes(shortData, bytes[..(2880 + 1000)]);
        var e = Assert.Throws<FitsFormatException>(() => FitsFile.ReadImage(shortData));
        Assert.Contains(shortData, e.Message);
        Assert.Contains("truncated", e.Message);

        var shortHeader = _dir.File("short-header.fits");
        File.WriteAllBytes(shortHeader, bytes[..1000]);
        e = Assert.Throws<FitsFormatException>(() => FitsFile.ReadImage(shortHeader));
        Assert.Contains(shortHeader, e.Message);
        Assert.Contains("truncated", e.Message);

        var shortGz = _dir.File("short.fits.gz");
        using (var z = new GZipStream(File.Create(shortGz), CompressionLevel.Fastest)) z.Write(bytes, 0, 2880 + 500);
        Assert.Contains(shortGz, Assert.Throws<FitsFormatException>(() => FitsFile.ReadImage(shortGz)).Message);

        var corruptGz = _dir.File("corrupt.fits.gz");
        var gzBytes = File.ReadAllBytes(shortGz);
        for (var i = 20; i < gzBytes.Length; i++) gzBytes[i] ^= 0x5a;
        File.WriteAllBytes(corruptGz, gzBytes);
        Assert.Contains(corruptGz, Assert.Throws<FitsFormatException>(() => FitsFile.ReadImage(corruptGz)).Message);
    }

    [Fact]
    public void Corrupt_header_gives_FitsFormatException()
    {
        var path = _dir.File("bad-bitpix.fits");
        File.WriteAllBytes(path, RawFits.PrimaryImage(-32, 2, 2, new byte[16]).Select((b, i) => i is >= 80 and < 160 ? (byte)' ' : b).ToArray());
        var e = Assert.Throws<FitsFormatException>(() => FitsFile.ReadImage(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("BITPIX", e.Message);

        var binary = _dir.File("binary-header.fits");
        var raw = RawFits.PrimaryImage(-32, 2, 2, new byte[16]);
        raw[200] = 0xC3;
        Assert.Contains(binary, Assert.Throws<FitsFormatException>(() => FitsFile.ReadImage(binary.Length > 0 ? WriteAndReturn(binary, raw) : binary)).Message);
    }

    [Fact]
    public void Writers_leave_no_file_when_the_input_is_invalid()
    {
        var path = _dir.File("never.fits");
        var table = new FitsTable("T");
        Assert.Throws<ArgumentException>(() => FitsFile.WriteImageExtension(path, new FitsHeader(), Gradient(2, 2), "NÄME"));
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }

    private static string WriteAndReturn(string path, byte[] bytes)
    {
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static FitsTable SampleTable()
    {
        var t = new FitsTable("CATALOG");
        t.AddColumn("ra", new[] { 10.5, 0, 359.999999999 }, "deg");
        t.AddColumn("flux", new[] { 1.25f, -3f, float.NaN }, "DN/s");
        t.AddColumn("id", new[] { 1, -2, int.MaxValue });
        t.AddColumn("big", new[] { long.MinValue, 0, long.MaxValue });
        t.AddColumn("flag", new short[] { 0, 1, short.MinValue });
        t.AddColumn("name", ["alpha", "", "o'brien"], 12);
        return t;
    }
}
