using System.CommandLine;
using System.CommandLine.Parsing;

namespace Rapid.Cli.Commands;

/// <summary>
/// A parse error as one line: for a token the command does not know, the nearest option or sub-command first
/// ("did you mean '--start'?"), then what was wrong, then where the command's options are listed.
/// </summary>
internal static class ParseErrors
{
    public static string Describe(ParseResult parse)
    {
        var path = string.Join(' ', Path(parse.CommandResult));
        var more = parse.Errors.Count > 1 ? $" ({parse.Errors.Count - 1} more problem{(parse.Errors.Count > 2 ? "s" : "")})" : "";
        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            var command = parse.CommandResult.Command;
            var known = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Concat(command.Subcommands.Select(c => c.Name));
            var suggestion = Nearest(token, known);
            var what = token.StartsWith('-') ? "option" : "argument";
            return (suggestion is null ? "" : $"did you mean '{suggestion}'? ")
                   + $"'{token}' is not an {what} of '{path}'{more} (see: {path} --help)";
        }
        return $"{OneLine(parse.Errors[0].Message)}{more} (see: {path} --help)";
    }

    private static IEnumerable<string> Path(CommandResult? result)
    {
        var names = new Stack<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is CommandResult c) names.Push(c.Command is RootCommand ? "rapid" : c.Command.Name);
        return names;
    }

    /// <summary>The known name closest to <paramref name="token"/> by edit distance, when it is close enough to be a typo.</summary>
    internal static string? Nearest(string token, IEnumerable<string> known)
    {
        var best = known.Distinct().Select(k => (Name: k, Distance: Distance(token, k))).OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        var bare = token.TrimStart('-').Length;
        return best.Name is not null && best.Distance <= Math.Max(1, Math.Min(3, bare / 3)) ? best.Name : null;
    }

    /// <summary>Damerau-Levenshtein distance (optimal string alignment): a swap of two neighbours counts once.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim().TrimEnd('.');
}
