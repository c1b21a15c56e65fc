using System.Text.Json;
using System.Text.Json.Serialization;
using Rapid.Core.Jobs;
using Rapid.Functions.Api;

namespace Rapid.Functions.Lambda;

/// <summary>
/// A state machine input's <c>submission.inputs</c>, read by the job API's own rule (<see cref="SubmissionBody.ReadInputs"/>):
/// strings, or numbers taken as written, so <c>{"rid": 5}</c> is accepted where the API accepts it; any other value fails the
/// input with the input named. Written back as text.
/// </summary>
public sealed class SubmissionInputValuesConverter : JsonConverter<IReadOnlyDictionary<string, string?>>
{
    public override IReadOnlyDictionary<string, string?> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        try { return SubmissionBody.ReadInputs(document.RootElement); }
        catch (JobInputException e) { throw new JsonException($"submission: {e.Message}", e); }
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, string?> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, text) in value)
        {
            if (text is null) writer.WriteNull(name);
            else writer.WriteString(name, text);
        }
        writer.WriteEndObject();
    }
}
