using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Rapid.Functions.Record.Qc;

/// <summary>
/// A named QC log pattern: a regular expression matched against every line of a job's log, with a severity. Examples
/// are real log lines the pattern must match (the review of a pattern checks them; so does a test).
/// </summary>
public sealed record QcPattern
{
    public required string Name { get; init; }
    /// <summary>info, warning or error.</summary>
    public required string Severity { get; init; }
    /// <summary>.NET regular expression, non-backtracking (no look-arounds or back-references): linear time on any line.</summary>
    public required string Regex { get; init; }
    public required string Description { get; init; }
    public IReadOnlyList<string> Examples { get; set; } = [];
}

/// <summary>The QC patterns file: <c>{"patterns": [...]}</c>.</summary>
public sealed record QcPatternFile
{
    public IReadOnlyList<QcPattern> Patterns { get; set; } = [];
}

/// <summary>One line of a log a pattern matched.</summary>
/// <param name="Line">1-based line number.</param>
public sealed record QcMatch(QcPattern Pattern, int Line, string Text);

/// <summary>
/// The reviewed QC patterns (<c>Record/Qc/qc-patterns.json</c> in this assembly, or the file <c>RAPID_QC_PATTERNS</c>
/// names), compiled. Registration scans each job's log with them (<see cref="Scan"/>); the matches are stored in
/// <c>qcmatches</c>. A file that does not load (bad JSON, a duplicate or malformed name, an unknown severity, a regular
/// expression that does not compile non-backtracking or misses one of its examples) is an error naming the pattern.
/// </summary>
public sealed partial class QcPatterns
{
    public const string FileVariable = "RAPID_QC_PATTERNS";
    public const string ResourceName = "Rapid.Functions.Record.Qc.qc-patterns.json";
    public static readonly IReadOnlySet<string> Severities = new HashSet<string>(StringComparer.Ordinal) { "info", "warning", "error" };

    /// <summary>Longest line stored with a match (characters); longer lines are cut.</summary>
    public const int MaxLineLength = 500;
    /// <summary>Most matches stored per log: a pattern that matches every line of a long log must not flood the database.</summary>
    public const int MaxMatchesPerLog = 200;

    private readonly IReadOnlyList<(QcPattern Pattern, Regex Regex)> _compiled;

    /// <summary>
    /// Every pattern as one alternation: a line it does not match matches none of them, so most lines are tested once,
    /// not once per pattern (a log of 60 lines against 14 patterns was ~850 calls, most of registration's client time
    /// per manifest). Exact: each pattern is a group of its own (its inline options end with it), and the
    /// non-backtracking engine allows no construct (backreference, lookaround) whose alternation is not the union.
    /// Null, and every pattern tried on every line, when a pattern has a '#' (under an inline (?x) a comment would run
    /// past its group's end).
    /// </summary>
    private readonly Regex? _any;

    private QcPatterns(IReadOnlyList<(QcPattern Pattern, Regex Regex)> compiled)
    {
        _compiled = compiled;
        if (compiled.Count > 1 && compiled.All(c => !c.Pattern.Regex.Contains('#')))
            _any = new Regex(string.Join("|", compiled.Select(c => $"(?:{c.Pattern.Regex})")), RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
    }

    public IReadOnlyList<QcPattern> Patterns => _compiled.Select(c => c.Pattern).ToList();

    private static readonly Lazy<QcPatterns> Configured = new(() =>
        Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } path ? Load(File.ReadAllBytes(path), path) : BuiltIn());

    /// <summary>The patterns in force: the file <c>RAPID_QC_PATTERNS</c> names, else the built-in ones.</summary>
    public static QcPatterns Default => Configured.Value;

    public static QcPatterns BuiltIn()
    {
        using var stream = typeof(QcPatterns).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the resource {ResourceName} is missing from {typeof(QcPatterns).Assembly.GetName().Name}");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Load(buffer.ToArray(), ResourceName);
    }

    /// <summary>Parses and checks a patterns file; <paramref name="source"/> names it in errors.</summary>
    public static QcPatterns Load(byte[] json, string source)
    {
        QcPatternFile file;
        try
        {
            file = JsonSerializer.Deserialize(json, QcJsonContext.Default.QcPatternFile) ?? throw new InvalidDataException($"{source}: the file is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a QC patterns file: {e.Message}", e);
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        var compiled = new List<(QcPattern, Regex)>();
        foreach (var p in file.Patterns)
        {
            var where = $"{source}: pattern '{p.Name}'";
            if (!PatternName().IsMatch(p.Name)) throw new InvalidDataException($"{where}: a name is lower case letters, digits and '_'");
            if (!names.Add(p.Name)) throw new InvalidDataException($"{where}: the name is used twice");
            if (!Severities.Contains(p.Severity)) throw new InvalidDataException($"{where}: severity '{p.Severity}' is not one of {string.Join(", ", Severities)}");
            if (string.IsNullOrWhiteSpace(p.Description)) throw new InvalidDataException($"{where}: no description");
            Regex regex;
            try
            {
                regex = new Regex(p.Regex, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException)
            {
                throw new InvalidDataException($"{where}: regex '{p.Regex}' is not a non-backtracking .NET regular expression: {e.Message}", e);
            }
            if (p.Examples.Count == 0) throw new InvalidDataException($"{where}: no example line (a pattern is reviewed against real log lines)");
            foreach (var example in p.Examples)
                if (!regex.IsMatch(example)) throw new InvalidDataException($"{where}: does not match its example \"{example}\"");
            compiled.Add((p, regex));
        }
        return new QcPatterns(compiled);
    }

    /// <summary>Every (line, pattern) match of a log, in line order, at most <see cref="MaxMatchesPerLog"/>.</summary>
    public IReadOnlyList<QcMatch> Scan(string log)
    {
        var matches = new List<QcMatch>();
        var number = 0;
        foreach (var line in log.AsSpan().EnumerateLines())
        {
            number++;
            if (line.IsEmpty || _any?.IsMatch(line) == false) continue;
            foreach (var (pattern, regex) in _compiled)
            {
                if (!regex.IsMatch(line)) continue;
                var text = line.Length > MaxLineLength ? line[..MaxLineLength].ToString() : line.ToString();
                matches.Add(new QcMatch(pattern, number, text));
                if (matches.Count == MaxMatchesPerLog) return matches;
            }
        }
        return matches;
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$")]
    private static partial Regex PatternName();
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(QcPatternFile))]
internal sealed partial class QcJsonContext : JsonSerializerContext;
