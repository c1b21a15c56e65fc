using System.Text;

namespace Rapid.Pipeline.Fits;

/// <summary>
/// Encodes and decodes 80-character header cards (FITS Standard 4.0, section 4): fixed-format values
/// right-justified to column 30, strings from column 11, the CONTINUE long-string convention
/// (section 4.2.1.2) and ESO HIERARCH keywords for names longer than 8 characters.
/// </summary>
internal static class FitsCardCodec
{
    public const int CardLength = 80;
    private const int MaxStringChunk = 67; // 80 - "KEYWORD= '".Length - "&'".Length

    /// <summary>Decodes raw cards (without END), joining CONTINUE cards onto the string they extend.</summary>
    public static FitsHeader Decode(IReadOnlyList<string> rawCards, string path)
    {
        var header = new FitsHeader();
        FitsCard? pending = null; // a long string whose last piece ended in '&'
        foreach (var raw in rawCards)
        {
            var card = DecodeOne(raw, path);
            if (pending is not null)
            {
                if (card.Key == "CONTINUE" && card.Value is not null && FitsValueText.IsQuoted(card.Value))
                {
                    var head = InnerText(pending.Value!).TrimEnd(' ');
                    var joined = head[..^1] + InnerText(card.Value);
                    var comment = (pending.Comment, card.Comment) switch
                    {
                        (null, var c) => c,
                        (var p, null) => p,
                        var (p, c) => p + " " + c,
                    };
                    pending = pending with { Value = FitsValueText.Quote(joined), Comment = comment };
                    if (!EndsWithAmpersand(pending))
                    {
                        header.AddParsed(pending);
                        pending = null;
                    }
                    continue;
                }
                header.AddParsed(pending); // a string ending in '&' without CONTINUE keeps its '&'
                pending = null;
            }
            if (card.Key != "CONTINUE" && EndsWithAmpersand(card)) pending = card;
            else header.AddParsed(card);
        }
        if (pending is not null) header.AddParsed(pending);
        return header;
    }

    /// <summary>Encodes one card as one or more 80-character records.</summary>
    public static IEnumerable<string> Encode(FitsCard card)
    {
        if (card.Value is null && card.Key is "COMMENT" or "HISTORY" or "")
        {
            var text = card.Comment ?? "";
            var chunk = CardLength - 8;
            if (text.Length == 0) yield return Pad(card.Key.PadRight(8));
            for (var i = 0; i < text.Length; i += chunk)
                yield return Pad(card.Key.PadRight(8) + text.Substring(i, Math.Min(chunk, text.Length - i)));
            yield break;
        }

        var prefix = card.Key.StartsWith("HIERARCH ", StringComparison.Ordinal) ? card.Key + " = " : card.Key.PadRight(8) + "= ";
        if (prefix.Length > CardLength - 2)
            throw new ArgumentException($"FITS keyword {card.Key} is too long for an 80-character card");

        if (card.Value is not null && FitsValueText.IsQuoted(card.Value))
        {
            foreach (var record in EncodeString(prefix, InnerText(card.Value), card.Comment)) yield return record;
            yield break;
        }

        var sb = new StringBuilder(prefix);
        if (card.Value is not null)
        {
            // Fixed format: value right-justified so that it ends in column 30.
            sb.Append(card.Value.PadLeft(Math.Max(0, 30 - prefix.Length)));
        }
        if (sb.Length > CardLength)
            throw new ArgumentException($"the value of FITS keyword {card.Key} does not fit in an 80-character card");
        AppendComment(sb, card.Comment);
        yield return Pad(sb.ToString());
    }

    private static IEnumerable<string> EncodeString(string prefix, string inner, string? comment)
    {
        var escaped = inner.Replace("'", "''");
        var firstCapacity = CardLength - prefix.Length - 2; // two quotes
        if (escaped.Length <= firstCapacity)
        {
            // Fixed format asks for at least 8 characters between the quotes.
            var sb = new StringBuilder(prefix).Append('\'').Append(escaped.PadRight(8)).Append('\'');
            AppendComment(sb, comment);
            yield return Pad(sb.ToString());
            yield break;
        }

        // CONTINUE convention: each piece ends with '&' inside the quotes; never split an escaped quote.
        var pieces = new List<string>();
        var capacity = Math.Min(MaxStringChunk, firstCapacity - 1);
        var current = new StringBuilder();
        foreach (var c in inner)
        {
            var add = c == '\'' ? 2 : 1;
            if (current.Length + add > capacity)
            {
                pieces.Add(current.ToString());
                current.Clear();
                capacity = MaxStringChunk;
            }
            if (c == '\'') current.Append("''");
            else current.Append(c);
        }
        pieces.Add(current.ToString());
        for (var i = 0; i < pieces.Count; i++)
        {
            var last = i == pieces.Count - 1;
            var sb = new StringBuilder(i == 0 ? prefix : "CONTINUE  ").Append('\'').Append(pieces[i]).Append(last ? "'" : "&'");
            if (last) AppendComment(sb, comment);
            yield return Pad(sb.ToString());
        }
    }

    private static void AppendComment(StringBuilder sb, string? comment)
    {
        if (string.IsNullOrEmpty(comment) || sb.Length + 3 >= CardLength) return;
        sb.Append(" / ").Append(comment);
        if (sb.Length > CardLength) sb.Length = CardLength; // comments are truncated, values never are
    }

    private static string Pad(string s) => s.Length >= CardLength ? s[..CardLength] : s.PadRight(CardLength);

    private static FitsCard DecodeOne(string raw, string path)
    {
        var key = raw[..8].TrimEnd();
        if (key == "HIERARCH")
        {
            var eq = raw.IndexOf('=', 8);
            if (eq < 0) return new FitsCard(key, null, raw[8..].TrimEnd());
            string name;
            try
            {
                name = FitsValueText.NormalizeKey(raw[8..eq]);
            }
            catch (ArgumentException)
            {
                name = "HIERARCH " + raw[8..eq].Trim().ToUpperInvariant(); // unusual characters: keep as written
            }
            return DecodeValue(name, raw[(eq + 1)..], raw, path);
        }
        if (key == "CONTINUE") return DecodeValue(key, raw[8..], raw, path);
        if (key is "COMMENT" or "HISTORY" or "" || raw[8] != '=' || raw[9] != ' ')
            return new FitsCard(key, null, raw[8..].TrimEnd());
        return DecodeValue(key, raw[10..], raw, path);
    }

    private static FitsCard DecodeValue(string key, string field, string raw, string path)
    {
        var text = field.TrimStart();
        if (text.StartsWith('\''))
        {
            var i = 1;
            while (true)
            {
                var q = text.IndexOf('\'', i);
                if (q < 0) throw new FitsFormatException(path, $"header card '{raw.TrimEnd()}' has an unterminated string");
                if (q + 1 < text.Length && text[q + 1] == '\'') { i = q + 2; continue; }
                // Trailing blanks inside the quotes are not significant (FITS 4.0, 4.2.1.1): keep the value canonical.
                var value = FitsValueText.Quote(InnerText(text[..(q + 1)]).TrimEnd(' '));
                var rest = text[(q + 1)..];
                var slash = rest.IndexOf('/');
                return new FitsCard(key, value, slash < 0 ? null : rest[(slash + 1)..].Trim());
            }
        }
        var s = text.IndexOf('/');
        var v = (s < 0 ? text : text[..s]).Trim();
        var comment = s < 0 ? null : text[(s + 1)..].Trim();
        return new FitsCard(key, v.Length == 0 ? null : v, comment);
    }

    private static bool EndsWithAmpersand(FitsCard card) =>
        card.Value is not null && FitsValueText.IsQuoted(card.Value) && InnerText(card.Value).TrimEnd(' ').EndsWith('&');

    private static string InnerText(string quoted) => quoted[1..^1].Replace("''", "'");
}
