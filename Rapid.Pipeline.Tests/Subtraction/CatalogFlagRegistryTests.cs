using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Subtraction;

namespace Rapid.Pipeline.Tests.Subtraction;

/// <summary>The FLAGS registry is complete, consistent with the enum, and what the header and the docs say.</summary>
public class CatalogFlagRegistryTests
{
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
            "docs/catalog.md does not hold the current flag table: paste CatalogFlagRegistry.Markdown() into it");
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Rapid.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("the repository root (Rapid.slnx) is not above the test binaries");
    }
}
