using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Rapid.Core.Storage;

namespace Rapid.Core.Contracts;

/// <summary>Reads and writes the JSON contracts, checking their schema version.</summary>
public static class Contract
{
    public static byte[] Serialize<T>(T value) =>
        JsonSerializer.SerializeToUtf8Bytes(value, (JsonTypeInfo<T>)RapidJsonContext.Default.GetTypeInfo(typeof(T))!);

    /// <summary>Parses a contract; <paramref name="source"/> names it in the error.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> json, string source)
    {
        T? value;
        try
        {
            value = JsonSerializer.Deserialize(json, (JsonTypeInfo<T>)RapidJsonContext.Default.GetTypeInfo(typeof(T))!);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a valid {typeof(T).Name}: {e.Message}", e);
        }
        if (value is null) throw new InvalidDataException($"{source}: empty {typeof(T).Name}");
        var (version, oldest, current) = value switch
        {
            JobConfig c => (c.SchemaVersion, JobConfig.OldestReadableSchemaVersion, JobConfig.CurrentSchemaVersion),
            JobList l => (l.SchemaVersion, JobList.CurrentSchemaVersion, JobList.CurrentSchemaVersion),
            ProductManifest m => (m.SchemaVersion, ProductManifest.CurrentSchemaVersion, ProductManifest.CurrentSchemaVersion),
            _ => (0, 0, 0),
        };
        if (version < oldest || version > current)
            throw new InvalidDataException(oldest == current
                ? $"{source}: {typeof(T).Name} schema version {version} is not supported (expected {current})"
                : $"{source}: {typeof(T).Name} schema version {version} is not supported (expected {oldest} to {current})");
        return value;
    }

    public static async Task<T> ReadAsync<T>(IObjectStore store, ObjectRef source, CancellationToken ct = default) =>
        Deserialize<T>(await store.GetBytesAsync(source, ct), source.ToString());

    public static Task WriteAsync<T>(IObjectStore store, ObjectRef target, T value, CancellationToken ct = default) =>
        store.PutBytesAsync(target, Serialize(value), ct);
}
