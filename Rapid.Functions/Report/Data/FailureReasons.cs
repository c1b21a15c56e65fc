using System.Text.RegularExpressions;

namespace Rapid.Functions.Report.Data;

/// <summary>
/// Groups jobs that failed for the same reason: the reason's object URIs, paths, hexadecimal digests and numbers are
/// replaced by placeholders (a signal's number is kept), so "rid 12: file s3://b/20250404/jid7/x.fits not found" and the same for
/// rid 13 read alike.
/// </summary>
public static partial class FailureReasons
{
    public static string Pattern(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason)) return "(no reason recorded)";
        var p = ObjectUri().Replace(reason.Trim(), "s3://…");
        p = FilePath().Replace(p, "…/$1");
        p = HexDigest().Replace(p, "‹hex›");
        p = Number().Replace(p, "#");
        return p.Length > 300 ? p[..300] + "…" : p;
    }

    /// <summary>Groups failed, lost and open jobs by pipeline, outcome, exit code and reason pattern, largest groups first.</summary>
    public static IReadOnlyList<(int Ppid, JobOutcomeClass Outcome, int? ExitCode, string Pattern, IReadOnlyList<JobRun> Jobs)> Group(IEnumerable<JobRun> jobs) =>
        jobs.Where(j => j.Outcome.IsFault())
            .GroupBy(j => (j.Ppid, j.Outcome, j.ExitCode, Pattern: Pattern(j.Reason)))
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Ppid).ThenBy(g => g.Key.Pattern, StringComparer.Ordinal)
            .Select(g => (g.Key.Ppid, g.Key.Outcome, g.Key.ExitCode, g.Key.Pattern, (IReadOnlyList<JobRun>)g.OrderBy(j => j.Jid).ToList()))
            .ToList();

    /// <summary>An object URI, without the punctuation that ends a clause after it ("s3://b/k.fits: truncated").</summary>
    [GeneratedRegex(@"s3://\S+?(?=[:;,)]?(\s|$))")]
    private static partial Regex ObjectUri();

    /// <summary>An absolute or relative path with at least one directory: keeps the file name, drops the directories.</summary>
    [GeneratedRegex(@"(?:/|\.{1,2}/)?(?:[\w.@+-]+/)+([\w.@+-]+)")]
    private static partial Regex FilePath();

    [GeneratedRegex(@"\b[0-9a-fA-F]{16,}\b")]
    private static partial Regex HexDigest();

    /// <summary>
    /// Numbers standing alone, except a signal's (killed by signal 9 and by signal 15 are different reasons); digits that are
    /// part of a word (F184, s3, HDU1) are not numbers.
    /// </summary>
    [GeneratedRegex(@"(?<!signal )(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\w)")]
    private static partial Regex Number();
}
