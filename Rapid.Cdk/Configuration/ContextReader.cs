using System.Globalization;
using System.Text.Json;
using Constructs;

namespace Rapid.Cdk.Configuration;

/// <summary>
/// Reads typed values from CDK context. Values arrive as JSON types from cdk.json but always as
/// strings from <c>cdk synth -c key=value</c>, so every reader accepts both; a value of the wrong
/// shape fails synth with a one-line message naming the key.
/// </summary>
public sealed class ContextReader(Node node)
{
    public string? OptionalString(string key)
    {
        var value = node.TryGetContext(key);
        return value switch
        {
            null => null,
            string s when s.Trim().Length == 0 => null,
            string s => s.Trim(),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        };
    }

    public string String(string key, string fallback) => OptionalString(key) ?? fallback;

    public bool Bool(string key, bool fallback)
    {
        var value = node.TryGetContext(key);
        return value switch
        {
            null => fallback,
            bool b => b,
            string s when bool.TryParse(s.Trim(), out var b) => b,
            string s when s.Trim().Length == 0 => fallback,
            _ => throw Invalid(key, value, "true or false"),
        };
    }

    public int Int(string key, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var value = node.TryGetContext(key);
        int result = value switch
        {
            null => fallback,
            int i => i,
            long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
            double d when d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue => (int)d,
            string s when s.Trim().Length == 0 => fallback,
            string s when int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) => i,
            _ => throw Invalid(key, value, "an integer"),
        };
        if (result < min || result > max)
            throw new ArgumentException($"context '{key}' = {result} is out of range [{min}, {max}]");
        return result;
    }

    /// <summary>A list given as a JSON array in cdk.json or as a comma-separated string on the command line.</summary>
    public IReadOnlyList<string> List(string key)
    {
        var value = node.TryGetContext(key);
        return value switch
        {
            null => [],
            string s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            object[] items => items.Select(i => Convert.ToString(i, CultureInfo.InvariantCulture) ?? "").Where(i => i.Length > 0).ToArray(),
            JsonElement { ValueKind: JsonValueKind.Array } array => array.EnumerateArray().Select(e => e.ToString()).ToArray(),
            _ => throw Invalid(key, value, "a list (JSON array or comma-separated string)"),
        };
    }

    private static ArgumentException Invalid(string key, object value, string expected) =>
        new($"context '{key}' = '{value}' is not {expected}");
}
