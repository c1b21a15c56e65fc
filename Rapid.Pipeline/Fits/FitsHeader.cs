namespace Rapid.Pipeline.Fits;

/// <summary>
/// The keywords of one HDU in file order. Lookups are by upper-case keyword name (the first match wins,
/// as in CFITSIO). Structural keywords (SIMPLE, BITPIX, NAXISn, ...) are written by <see cref="FitsFile"/>
/// and are not kept here for images and tables.
/// </summary>
public sealed class FitsHeader
{
    private readonly List<FitsCard> _cards;

    public FitsHeader() => _cards = [];

    private FitsHeader(IEnumerable<FitsCard> cards) => _cards = [.. cards];

    public IReadOnlyList<FitsCard> Cards => _cards;

    public bool Contains(string key) => IndexOf(key) >= 0;

    /// <summary>The string value with quotes removed (trailing blanks dropped); other values as their FITS text; null if absent or undefined.</summary>
    public string? GetString(string key) => FitsValueText.Unquote(Find(key)?.Value);

    /// <summary>The numeric value; null if absent or undefined; FormatException if the value is not a number.</summary>
    public double? GetDouble(string key)
    {
        var v = Find(key)?.Value;
        if (v is null) return null;
        if (FitsValueText.TryParseDouble(v, out var d)) return d;
        throw new FormatException($"FITS keyword {key.ToUpperInvariant()} = {v} is not a number");
    }

    /// <summary>The integer value; null if absent or undefined; FormatException if the value is not an integer.</summary>
    public long? GetLong(string key)
    {
        var v = Find(key)?.Value;
        if (v is null) return null;
        if (FitsValueText.TryParseLong(v, out var l)) return l;
        throw new FormatException($"FITS keyword {key.ToUpperInvariant()} = {v} is not an integer");
    }

    /// <summary>The logical value (T/F); null if absent or undefined; FormatException otherwise.</summary>
    public bool? GetBool(string key)
    {
        var v = Find(key)?.Value;
        return v switch
        {
            null => null,
            "T" => true,
            "F" => false,
            _ => throw new FormatException($"FITS keyword {key.ToUpperInvariant()} = {v} is not a logical (T/F)"),
        };
    }

    /// <summary>Sets a string value (printable ASCII; long strings are written with the CONTINUE convention).</summary>
    public void Set(string key, string value, string? comment = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        FitsValueText.RequirePrintableAscii(value, $"the value of FITS keyword {key}");
        SetRaw(key, FitsValueText.Quote(value), comment);
    }

    public void Set(string key, double value, string? comment = null) => SetRaw(key, FitsValueText.FormatDouble(value), comment);

    public void Set(string key, long value, string? comment = null) => SetRaw(key, FitsValueText.FormatLong(value), comment);

    public void Set(string key, bool value, string? comment = null) => SetRaw(key, FitsValueText.FormatBool(value), comment);

    /// <summary>Removes every card with this keyword.</summary>
    public void Remove(string key)
    {
        var k = FitsValueText.NormalizeKey(key);
        _cards.RemoveAll(c => c.Key == k);
    }

    public void AddHistory(string text) => AddCommentary("HISTORY", text);

    public void AddComment(string text) => AddCommentary("COMMENT", text);

    public FitsHeader Clone() => new(_cards);

    /// <summary>Replaces the first card with this keyword in place (keeping its comment when none is given) or appends.</summary>
    internal void SetRaw(string key, string valueText, string? comment)
    {
        var k = FitsValueText.NormalizeKey(key);
        if (k is "COMMENT" or "HISTORY" or "CONTINUE" or "END")
            throw new ArgumentException($"FITS keyword {k} cannot be given a value");
        if (comment is not null) FitsValueText.RequirePrintableAscii(comment, $"the comment of FITS keyword {k}");
        var i = IndexOf(k);
        if (i >= 0) _cards[i] = new FitsCard(k, valueText, comment ?? _cards[i].Comment);
        else _cards.Add(new FitsCard(k, valueText, comment));
    }

    /// <summary>Appends a card as read from a file (no validation beyond what the reader did).</summary>
    internal void AddParsed(FitsCard card) => _cards.Add(card);

    internal FitsCard? Find(string key)
    {
        var i = IndexOf(key);
        return i >= 0 ? _cards[i] : null;
    }

    private int IndexOf(string key)
    {
        var k = FitsValueText.NormalizeKey(key);
        for (var i = 0; i < _cards.Count; i++)
        {
            if (_cards[i].Key == k) return i;
        }
        return -1;
    }

    private void AddCommentary(string key, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        FitsValueText.RequirePrintableAscii(text, $"{key} text");
        _cards.Add(new FitsCard(key, null, text));
    }
}
