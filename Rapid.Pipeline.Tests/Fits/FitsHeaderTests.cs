using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Tests.Fits;

public sealed class FitsHeaderTests
{
    [Fact]
    public void Typed_values_read_back_as_set()
    {
        var h = new FitsHeader();
        h.Set("OBJECT", "M31 field", "target");
        h.Set("EXPTIME", 139.8, "seconds");
        h.Set("NFRAMES", 42L);
        h.Set("SIMULATD", true);

        Assert.Equal("M31 field", h.GetString("OBJECT"));
        Assert.Equal(139.8, h.GetDouble("EXPTIME"));
        Assert.Equal(42L, h.GetLong("NFRAMES"));
        Assert.True(h.GetBool("SIMULATD"));
        Assert.Equal("'M31 field'", h.Cards[0].Value);
        Assert.Equal("target", h.Cards[0].Comment);
    }

    [Fact]
    public void Set_replaces_in_place_and_keeps_the_comment()
    {
        var h = new FitsHeader();
        h.Set("A", 1L, "first");
        h.Set("B", 2L);
        h.Set("a", 3L);

        Assert.Equal(["A", "B"], h.Cards.Select(c => c.Key));
        Assert.Equal(3L, h.GetLong("A"));
        Assert.Equal("first", h.Cards[0].Comment);
    }

    [Fact]
    public void Missing_keywords_are_null_and_Remove_deletes()
    {
        var h = new FitsHeader();
        h.Set("GAIN", 1.5);
        h.Remove("GAIN");
        Assert.False(h.Contains("GAIN"));
        Assert.Null(h.GetDouble("GAIN"));
        Assert.Null(h.GetString("GAIN"));
    }

    [Fact]
    public void Wrongly_typed_value_names_the_keyword()
    {
        var h = new FitsHeader();
        h.Set("FILTER", "F184");
        var e = Assert.Throws<FormatException>(() => h.GetDouble("FILTER"));
        Assert.Contains("FILTER", e.Message);
    }

    [Fact]
    public void Clone_is_independent()
    {
        var h = new FitsHeader();
        h.Set("X", 1L);
        var c = h.Clone();
        c.Set("X", 2L);
        c.AddHistory("changed");
        Assert.Equal(1L, h.GetLong("X"));
        Assert.Single(h.Cards);
    }

    [Fact]
    public void Non_ascii_values_and_bad_keyword_names_are_rejected()
    {
        var h = new FitsHeader();
        Assert.Throws<ArgumentException>(() => h.Set("OBSERVER", "Müller"));
        Assert.Throws<ArgumentException>(() => h.Set("BAD=KEY", 1L));
        Assert.Throws<ArgumentException>(() => h.Set("NANVALUE", double.NaN));
    }

    [Fact]
    public void Long_or_blank_separated_names_are_HIERARCH_keywords()
    {
        var h = new FitsHeader();
        h.Set("ESO DET GAIN", 1.5);
        h.Set("PIPELINEVERSION", "1.0");
        Assert.Equal(1.5, h.GetDouble("HIERARCH ESO  DET GAIN"));
        Assert.Equal("HIERARCH PIPELINEVERSION", h.Cards[1].Key);
        Assert.Equal("1.0", h.GetString("pipelineversion"));
    }

    [Fact]
    public void Integral_reals_read_as_longs()
    {
        var h = new FitsHeader();
        h.Set("NAXIS1", 4088.0);
        Assert.Equal(4088L, h.GetLong("NAXIS1"));
    }
}
