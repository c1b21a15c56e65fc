using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Rapid.Core.Contracts.Schema2;
using Rapid.Core.Storage;

namespace Rapid.Core.Contracts;

/// <summary>
/// Reads and writes the JSON contracts, checking their schema version. Job configs and manifests of an older schema
/// are read by their schema's reader and turned into the current types (see <see cref="Schema2"/>), so a deploy that
/// mixes the previous release's jobs or planners with this one's still works.
/// </summary>
public static class Contract
{
    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, TypeInfo<T>());

    /// <summary>Parses a contract; <paramref name="source"/> names it in the error.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> json, string source)
    {
        var (oldest, current) = typeof(T) switch
        {
            var t when t == typeof(JobConfig) => (JobConfig.MinSupportedSchemaVersion, JobConfig.CurrentSchemaVersion),
            var t when t == typeof(ProductManifest) => (ProductManifest.MinSupportedSchemaVersion, ProductManifest.CurrentSchemaVersion),
            var t when t == typeof(JobList) => (JobList.CurrentSchemaVersion, JobList.CurrentSchemaVersion),
            _ => (0, 0),
        };
        if (current == 0) return Parse<T>(json, source);

        // Without a schemaVersion (a hand-written config, say) a contract is read as the current schema.
        var version = SchemaVersionOf(json, source, typeof(T).Name) ?? current;
        if (version < oldest || version > current)
            throw new InvalidDataException(oldest == current
                ? $"{source}: {typeof(T).Name} schema version {version} is not supported (expected {current})"
                : $"{source}: {typeof(T).Name} schema version {version} is not supported (expected {oldest} to {current})");
        if (version == current) return Parse<T>(json, source);
        // Older schemas: the reader of their own shape, then the adapter to the current one.
        object adapted = typeof(T) == typeof(JobConfig)
            ? Parse<JobConfigV2>(json, source, typeof(T).Name).ToCurrent(source)
            : Parse<ProductManifestV2>(json, source, typeof(T).Name).ToCurrent();
        return (T)adapted;
    }

    public static async Task<T> ReadAsync<T>(IObjectStore store, ObjectRef source, CancellationToken ct = default) =>
        Deserialize<T>(await store.GetBytesAsync(source, ct), source.ToString());

    public static Task WriteAsync<T>(IObjectStore store, ObjectRef target, T value, CancellationToken ct = default) =>
        store.PutBytesAsync(target, Serialize(value), ct);

    private static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)RapidJsonContext.Default.GetTypeInfo(typeof(T))!;

    private static T Parse<T>(ReadOnlySpan<byte> json, string source, string? contractName = null)
    {
        var name = contractName ?? typeof(T).Name;
        T? value;
        try
        {
            value = JsonSerializer.Deserialize(json, TypeInfo<T>());
        }
        // NotSupportedException: a polymorphic section without (or with an unknown) "pipeline" discriminator.
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new InvalidDataException($"{source}: not a valid {name}: {e.Message}", e);
        }
        return value ?? throw new InvalidDataException($"{source}: empty {name}");
    }

    /// <summary>The top-level "schemaVersion" (null when absent), read without parsing the rest.</summary>
    private static int? SchemaVersionOf(ReadOnlySpan<byte> json, string source, string name)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new InvalidDataException($"{source}: not a valid {name}: not a JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isVersion = reader.ValueTextEquals("schemaVersion"u8);
                reader.Read();
                if (isVersion)
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v) ? v
                        : throw new InvalidDataException($"{source}: not a valid {name}: schemaVersion is not an integer");
                reader.Skip();
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a valid {name}: {e.Message}", e);
        }
        return null;
    }
}
