using System.Collections;

namespace Rapid.Cli.Engine;

/// <summary>
/// The environment of a pipeline child process, built from an allow-list: a job gets what Batch would give
/// its container (the job's own variables, set by the executor) plus the few parent variables a process
/// needs to run (where programs and the .NET runtime are, locale, time zone, home). Everything else of the
/// parent's environment, database URLs, tokens, keys, passwords and cloud credentials above all, is left
/// out whatever its name: a deny-list cannot know every name a secret is given.
/// </summary>
public static class ChildEnvironment
{
    /// <summary>Parent variables passed through unchanged (when set).</summary>
    public static readonly IReadOnlySet<string> Inherited = new HashSet<string>(StringComparer.Ordinal)
    {
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "LD_LIBRARY_PATH", "DOTNET_ROOT",
    };

    /// <summary>Prefixes of parent variables passed through: the locale categories (LC_ALL, LC_NUMERIC, ...).</summary>
    public static readonly IReadOnlyList<string> InheritedPrefixes = ["LC_"];

    public static bool IsInherited(string name) =>
        Inherited.Contains(name) || InheritedPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));

    /// <summary>
    /// Replaces <paramref name="target"/> (a ProcessStartInfo's environment, pre-filled with the parent's) by the
    /// allowed parent variables of <paramref name="parent"/> and then <paramref name="set"/>, in order (later wins).
    /// </summary>
    public static void Apply(IDictionary<string, string?> target, IDictionary parent, params IEnumerable<KeyValuePair<string, string>>[] set)
    {
        target.Clear();
        foreach (DictionaryEntry e in parent)
            if (e.Key is string name && IsInherited(name) && e.Value is string value)
                target[name] = value;
        foreach (var variables in set)
            foreach (var (k, v) in variables)
                target[k] = v;
    }
}
