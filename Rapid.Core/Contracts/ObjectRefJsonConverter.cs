using System.Text.Json;
using System.Text.Json.Serialization;
using Rapid.Core.Storage;

namespace Rapid.Core.Contracts;

/// <summary>Writes an <see cref="ObjectRef"/> as its s3://bucket/key string.</summary>
public sealed class ObjectRefJsonConverter : JsonConverter<ObjectRef>
{
    public override ObjectRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        return ObjectRef.TryParse(text, out var r) ? r! : throw new JsonException($"'{text}' is not an object URI of the form s3://bucket/key");
    }

    public override void Write(Utf8JsonWriter writer, ObjectRef value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
