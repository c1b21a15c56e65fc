using System.Globalization;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Subtraction;
using Rapid.Pipeline.Tests.Fits.Support;

namespace Rapid.Pipeline.Tests.Subtraction;

/// <summary>The catalog's columns and FLAGS registry: complete, what the header and the docs say, readable by astropy with its units.</summary>
public class DifferenceCatalogTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Astropy_reads_every_column_with_a_unit_it_parses_and_the_magnitudes_follow_the_zero_point()
    {
        var rows = new[]
        {
            new DifferenceCatalogRow(1, 9, 19, 150.1, 2.2, 100, 10, 12, +1, 1.6, 1.1, 1.02, DifferenceSourceFlags.None),
            new DifferenceCatalogRow(2, 29.5, 39.25, 150.2, 2.3, -10, 2, 5.5, -1, 1.5, 1.3, 0.98, DifferenceSourceFlags.LowCoverage | DifferenceSourceFlags.Truncated),
        };
        var path = _dir.File("sources.fits");
        var primary = new FitsHeader();
        CatalogFlagRegistry.WriteTo(primary);
        FitsFile.WriteTable(path, primary, DifferenceCatalog.ToTable(rows, zeroPointMag: 26));

        var output = Astropy.Run("""
            import sys, warnings
            import astropy.units as u
            from astropy.table import Table
            warnings.simplefilter('error', u.UnitsWarning)
            t = Table.read(sys.argv[1], hdu='SOURCES')
            print(' '.join(t.colnames))
            print(' '.join(str(t[c].unit) for c in t.colnames))
            print(repr(float(t['MAG'][0])), repr(float(t['MAGERR'][1])), repr(float(t['X_IMAGE'][1])), int(t['FLAGS'][1]))
            """, path);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(string.Join(' ', DifferenceCatalog.Columns.Select(c => c.Name)), lines[0]);
        Assert.Contains("adu / s", lines[1]);
        var v = lines[2].Split(' ');
        Assert.Equal(26 - 5.0, double.Parse(v[0], CultureInfo.InvariantCulture), 9);            // 100 DN/s at zero point 26
        Assert.Equal(2.5 / Math.Log(10) * 0.2, double.Parse(v[1], CultureInfo.InvariantCulture), 9);
        Assert.Equal(30.5, double.Parse(v[2], CultureInfo.InvariantCulture), 9);               // 0-based 29.5 written 1-based
        Assert.Equal("5", v[3]);
    }

    [Fact]
    public void The_column_table_in_the_docs_is_generated_from_the_columns()
    {
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "catalog.md"));
        Assert.True(docs.Contains(DifferenceCatalog.Markdown(), StringComparison.Ordinal),
            $"docs/catalog.md does not hold the current column table; it should read:\n{DifferenceCatalog.Markdown()}");
    }

    [Fact]
    public void Every_flag_has_exactly_one_bit_and_every_bit_its_flag()
    {
        var flags = Enum.GetValues<DifferenceSourceFlags>().Where(f => f != DifferenceSourceFlags.None).ToList();
        Assert.Equal(flags.Order(), CatalogFlagRegistry.Bits.Select(b => b.Flag).Order());
        Assert.All(CatalogFlagRegistry.Bits, b => Assert.Equal(1 << b.Bit, (int)b.Flag));
        Assert.Equal(CatalogFlagRegistry.Bits.Count, CatalogFlagRegistry.Bits.Select(b => b.Name).Distinct().Count());
    }

    [Fact]
    public void The_header_describes_every_bit()
    {
        var header = new FitsHeader();
        CatalogFlagRegistry.WriteTo(header);
        Assert.Equal("TRUNCATED: the PSF fit box is cut by the image edge or masked pixels", header.GetString("FLAGBIT0"));
        Assert.All(CatalogFlagRegistry.Bits, b => Assert.StartsWith(b.Name + ": ", header.GetString($"FLAGBIT{b.Bit}")));
    }

    [Fact]
    public void The_documentation_table_is_generated_from_the_registry()
    {
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "catalog.md"));
        Assert.True(docs.Contains(CatalogFlagRegistry.Markdown(), StringComparison.Ordinal),
            $"docs/catalog.md does not hold the current flag table; it should read:\n{CatalogFlagRegistry.Markdown()}");
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Rapid.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("the repository root (Rapid.slnx) is not above the test binaries");
    }
}
