using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rapid.Core.Contracts;

namespace Rapid.Cli.Diff;

/// <summary>
/// Applies <c>--set name=value</c> overrides to the job config's <see cref="PipelineSettings"/> through its JSON form,
/// so every setting the pipeline has (today's and those added later) can be tuned without a new option.
/// Names are the JSON (camelCase) property names, matched without regard to case.
/// </summary>
public static class PipelineSettingsOverrides
{
    public static PipelineSettings Apply(PipelineSettings settings, IEnumerable<string> assignments)
    {
        var node = JsonSerializer.SerializeToNode(settings, RapidJsonContext.Default.PipelineSettings)!.AsObject();
        foreach (var assignment in assignments)
        {
            var eq = assignment.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"diff: --set '{assignment}' is not name=value");
            var (name, text) = (assignment[..eq].Trim(), assignment[(eq + 1)..].Trim());
            var key = node.Select(kv => kv.Key).FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"diff: --set {name}: no such setting (settings: {string.Join(", ", node.Select(kv => kv.Key))})");
            var current = node[key];
            node[key] = current?.GetValueKind() switch
            {
                JsonValueKind.Number => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
                    ? JsonValue.Create(d) : throw new ArgumentException($"diff: --set {name}={text}: not a number"),
                JsonValueKind.True or JsonValueKind.False => bool.TryParse(text, out var b)
                    ? JsonValue.Create(b) : throw new ArgumentException($"diff: --set {name}={text}: not true or false"),
                _ => JsonValue.Create(text),
            };
        }
        try
        {
            return node.Deserialize(RapidJsonContext.Default.PipelineSettings)!;
        }
        catch (JsonException e)
        {
            // e.g. a fraction given for a whole-number setting.
            throw new ArgumentException($"diff: --set: {e.Message}");
        }
    }

    /// <summary>"name=default" for every setting, for --help.</summary>
    public static string Describe(PipelineSettings defaults) =>
        string.Join(", ", JsonSerializer.SerializeToNode(defaults, RapidJsonContext.Default.PipelineSettings)!.AsObject()
            .Select(kv => $"{kv.Key}={kv.Value?.ToJsonString()}"));
}
