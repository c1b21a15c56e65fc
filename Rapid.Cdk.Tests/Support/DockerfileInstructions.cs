using System.Text.Json;

namespace Rapid.Cdk.Tests.Support;

/// <summary>
/// The instructions of a Dockerfile, read the way Docker reads them: comments dropped, lines
/// ending in a backslash joined with the next. Only what the image tests need is interpreted
/// (COPY from the build context, the <c>RUN dotnet publish</c> of the build stage, ENTRYPOINT).
/// </summary>
public sealed class DockerfileInstructions
{
    public sealed record Instruction(string Keyword, string Arguments);

    public string Path { get; }
    public IReadOnlyList<Instruction> Instructions { get; }

    public DockerfileInstructions(string path)
    {
        Path = path;
        var instructions = new List<Instruction>();
        var pending = "";
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0)) continue;
            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }
            var joined = (pending + line).Trim();
            pending = "";
            if (joined.Length == 0) continue;
            var space = joined.IndexOf(' ');
            instructions.Add(space < 0
                ? new Instruction(joined.ToUpperInvariant(), "")
                : new Instruction(joined[..space].ToUpperInvariant(), joined[(space + 1)..].Trim()));
        }
        Instructions = instructions;
    }

    /// <summary>The one <c>RUN dotnet publish ...</c>; a Dockerfile without exactly one is an error naming the file.</summary>
    public Instruction PublishInstruction
    {
        get
        {
            var publishes = Instructions.Where(i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish ", StringComparison.Ordinal)).ToList();
            return publishes.Count == 1 ? publishes[0]
                : throw new InvalidDataException($"{Path}: expected exactly one 'RUN dotnet publish ...' instruction, found {publishes.Count}");
        }
    }

    /// <summary>
    /// The arguments after <c>dotnet</c> (publish, project, options), split on white space (the
    /// Dockerfile uses no quoting), with <c>${NAME}</c> expanded as Docker expands a build stage's
    /// ARG: the build argument given, else the ARG's default.
    /// </summary>
    public IReadOnlyList<string> PublishArguments(IReadOnlyDictionary<string, string> buildArguments)
    {
        var publish = PublishInstruction;
        var values = new Dictionary<string, string>();
        foreach (var arg in Instructions.TakeWhile(i => !ReferenceEquals(i, publish)).Where(i => i.Keyword == "ARG"))
        {
            var (name, fallback) = arg.Arguments.IndexOf('=') is var eq and > 0 ? (arg.Arguments[..eq], arg.Arguments[(eq + 1)..]) : (arg.Arguments, "");
            values[name] = buildArguments.TryGetValue(name, out var given) ? given : fallback;
        }
        var expanded = System.Text.RegularExpressions.Regex.Replace(publish.Arguments, @"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", m =>
            values.TryGetValue(m.Groups[1].Value, out var v) ? v
                : throw new InvalidDataException($"{Path}: the publish uses ${{{m.Groups[1].Value}}}, which no ARG of its stage declares"));
        return expanded.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
    }

    /// <summary>The image names of the FROM instructions, with their options (e.g. --platform=...).</summary>
    public IEnumerable<string> FromInstructions() => Instructions.Where(i => i.Keyword == "FROM").Select(i => i.Arguments);

    /// <summary>(source, destination) of each COPY that reads the build context (not <c>--from=</c> another stage) in the publish stage.</summary>
    public IEnumerable<(string Source, string Destination)> ContextCopies()
    {
        var publish = PublishInstruction;
        foreach (var copy in Instructions.TakeWhile(i => !ReferenceEquals(i, publish)).Where(i => i.Keyword == "COPY"))
        {
            var words = copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Any(w => w.StartsWith("--from=", StringComparison.Ordinal))) continue;
            var paths = words.Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToArray();
            if (paths.Length < 2 || paths.Any(p => p.IndexOfAny(['*', '?', '[']) >= 0))
                throw new InvalidDataException($"{Path}: 'COPY {copy.Arguments}' is not a plain 'COPY source... destination' these tests can follow");
            foreach (var source in paths[..^1]) yield return (source, paths[^1]);
        }
    }

    /// <summary>The exec-form ENTRYPOINT's executable (the last ENTRYPOINT wins, as in Docker).</summary>
    public string EntryPointExecutable
    {
        get
        {
            var entry = Instructions.LastOrDefault(i => i.Keyword == "ENTRYPOINT")
                ?? throw new InvalidDataException($"{Path}: no ENTRYPOINT");
            var exec = entry.Arguments.StartsWith('[') ? JsonSerializer.Deserialize<string[]>(entry.Arguments) : null;
            return exec is { Length: > 0 } ? exec[0]
                : throw new InvalidDataException($"{Path}: ENTRYPOINT {entry.Arguments} is not the exec form [\"executable\", ...]");
        }
    }
}
