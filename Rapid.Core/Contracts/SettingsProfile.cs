using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rapid.Core.Contracts;

/// <summary>A settings profile or a setting is not usable; the message names the source and the field.</summary>
public sealed class SettingsException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A versioned, named set of pipeline settings for a night:
/// <code>{ "schemaVersion": 1, "name": "deep-h158", "description": "...", "settings": { "detectionThresholdSigma": 4.5 } }</code>
/// Settings left out keep their defaults; an unknown name, a value of the wrong type or out of range, or another schema
/// version is a <see cref="SettingsException"/> naming the file and the field (a typo must not silently run a night on
/// defaults). <c>rapid run --settings FILE</c> reads one from disk; the plan steps on AWS read the one the stack names
/// from the pipeline bucket.
/// </summary>
public sealed record SettingsProfile(string Name, string? Description, PipelineSettings Settings)
{
    public const int CurrentSchemaVersion = 1;

    /// <param name="source">The file or object the bytes came from, for messages.</param>
    public static SettingsProfile Parse(ReadOnlySpan<byte> json, string source)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new SettingsException($"{source}: a settings profile is a JSON object");
        }
        catch (JsonException e)
        {
            throw new SettingsException($"{source}: not JSON ({e.Message})", e);
        }
        foreach (var (key, _) in root)
            if (key is not ("schemaVersion" or "name" or "description" or "settings"))
                throw new SettingsException($"{source}: {key} is not a field of a settings profile (schemaVersion, name, description, settings)");
        var version = root["schemaVersion"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : (int?)null;
        if (version != CurrentSchemaVersion)
            throw new SettingsException($"{source}: schemaVersion is {(version?.ToString(CultureInfo.InvariantCulture) ?? "missing")}; this version of Rapid reads {CurrentSchemaVersion}");
        var name = root["name"] is JsonValue nv && nv.TryGetValue<string>(out var s) && s.Trim().Length > 0 ? s.Trim()
            : throw new SettingsException($"{source}: name is missing (a profile is named in job configs and product headers)");
        var description = root["description"] is JsonValue dv && dv.TryGetValue<string>(out var d) ? d : null;
        var settings = root["settings"] switch
        {
            null => new PipelineSettings(),
            JsonObject o => PipelineSettingsJson.With(new PipelineSettings(), o.Select(kv => (kv.Key, kv.Value)), $"{source}: settings."),
            _ => throw new SettingsException($"{source}: settings must be an object of name: value"),
        };
        return new SettingsProfile(name, description, settings);
    }

    public static SettingsProfile Load(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new SettingsException($"{path}: cannot be read ({e.Message})", e); }
        return Parse(bytes, path);
    }
}

/// <summary>Settings by their JSON (camelCase) names: the one way profiles and <c>--set</c> change them.</summary>
public static class PipelineSettingsJson
{
    /// <summary>The JSON names of every setting, in declaration order.</summary>
    public static IReadOnlyList<string> Names { get; } =
        JsonSerializer.SerializeToNode(new PipelineSettings(), RapidJsonContext.Default.PipelineSettings)!.AsObject().Select(kv => kv.Key).ToList();

    /// <summary>
    /// The settings with the given values replaced (names matched without regard to case; values JSON, or text that is
    /// parsed as the setting's type), checked by <see cref="PipelineSettings.Problems"/>. <paramref name="where"/>
    /// prefixes every message (e.g. "profile.json: settings.").
    /// </summary>
    public static PipelineSettings With(PipelineSettings settings, IEnumerable<(string Name, JsonNode? Value)> values, string where)
    {
        var node = JsonSerializer.SerializeToNode(settings, RapidJsonContext.Default.PipelineSettings)!.AsObject();
        foreach (var (name, value) in values)
        {
            var key = Names.FirstOrDefault(k => string.Equals(k, name.Trim(), StringComparison.OrdinalIgnoreCase))
                      ?? throw new SettingsException($"{where}{name}: no such setting (settings: {string.Join(", ", Names)})");
            node[key] = Coerce(node[key]!, value, $"{where}{key}");
        }
        PipelineSettings result;
        try
        {
            result = node.Deserialize(RapidJsonContext.Default.PipelineSettings)!;
        }
        catch (JsonException e)
        {
            throw new SettingsException($"{where.TrimEnd('.', ' ')}: {e.Message}", e);
        }
        if (result.Problems() is { Count: > 0 } problems) throw new SettingsException($"{where}{problems[0]}");
        return result;
    }

    /// <summary>name=value assignments (as <c>--set</c> gives them) applied to the settings.</summary>
    public static PipelineSettings WithAssignments(PipelineSettings settings, IEnumerable<string> assignments, string where)
    {
        var pairs = new List<(string, JsonNode?)>();
        foreach (var a in assignments)
        {
            var eq = a.IndexOf('=');
            if (eq <= 0) throw new SettingsException($"{where}'{a}' is not name=value");
            pairs.Add((a[..eq].Trim(), JsonValue.Create(a[(eq + 1)..].Trim())));
        }
        return With(settings, pairs, where);
    }

    private static JsonNode Coerce(JsonNode current, JsonNode? value, string what)
    {
        var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        switch (current.GetValueKind())
        {
            case JsonValueKind.Number:
                if (value is JsonValue number && number.GetValueKind() == JsonValueKind.Number) return number.DeepClone();
                if (text is not null && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
                    return JsonValue.Create(d);
                throw new SettingsException($"{what} = {value?.ToJsonString() ?? "null"} is not a number");
            case JsonValueKind.True or JsonValueKind.False:
                if (value?.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return value.DeepClone();
                if (text is not null && bool.TryParse(text, out var b)) return JsonValue.Create(b);
                throw new SettingsException($"{what} = {value?.ToJsonString() ?? "null"} is not true or false");
            default:
                return value?.DeepClone() ?? throw new SettingsException($"{what} has no value");
        }
    }
}

/// <summary>The settings' documentation, generated from their <see cref="SettingAttribute"/>s (docs/settings.md, --help).</summary>
public static class SettingsDocumentation
{
    /// <summary>(JSON name, default as JSON, unit, meaning) of every setting, in declaration order.</summary>
    public static IReadOnlyList<(string Name, string Default, string Unit, string Meaning)> Entries()
    {
        var defaults = JsonSerializer.SerializeToNode(new PipelineSettings(), RapidJsonContext.Default.PipelineSettings)!.AsObject();
        return typeof(PipelineSettings).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Attribute: p.GetCustomAttribute<SettingAttribute>()))
            .Select(x =>
            {
                var name = JsonNamingPolicy.CamelCase.ConvertName(x.Property.Name);
                var attribute = x.Attribute ?? throw new InvalidOperationException($"setting {x.Property.Name} has no [Setting] description");
                return (name, defaults[name]!.ToJsonString(), attribute.Unit, attribute.Meaning);
            }).ToList();
    }

    public static string Markdown()
    {
        var sb = new StringBuilder("| setting | default | unit | meaning |\n|---|---|---|---|\n");
        foreach (var (name, value, unit, meaning) in Entries())
            sb.Append(CultureInfo.InvariantCulture, $"| `{name}` | {value} | {(unit.Length == 0 ? "-" : unit)} | {meaning.Replace("|", "\\|", StringComparison.Ordinal)} |\n");
        return sb.ToString();
    }
}
