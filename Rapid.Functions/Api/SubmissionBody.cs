using System.Text.Json;
using Rapid.Core.Jobs;

namespace Rapid.Functions.Api;

/// <summary>A request the job API refuses before it reaches the job types: the HTTP status and one line saying why.</summary>
public sealed class ApiRequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// The body of <c>POST /api/v1/jobs</c>, <c>{type, inputs, tag}</c>, as <c>rapid serve</c> and the AWS job API λ both read
/// it: at most <see cref="MaxBytes"/>, a JSON object with no other fields, inputs strings or numbers. A body that is not
/// that is an <see cref="ApiRequestException"/> (400, 413); a field of the wrong kind a <see cref="JobInputException"/>
/// naming it (the type's own checks come after, in <see cref="Submissions.Check"/>).
/// </summary>
public sealed record SubmissionBody(string? Type, IReadOnlyDictionary<string, string?> Inputs, string? Tag)
{
    public const long MaxBytes = 64 * 1024;

    public static SubmissionBody Parse(ReadOnlyMemory<byte> body)
    {
        if (body.Length > MaxBytes) throw new ApiRequestException(413, $"the body is larger than {MaxBytes} bytes");
        JsonDocument document;
        try { document = JsonDocument.Parse(body); }
        catch (JsonException e) { throw new ApiRequestException(400, $"the body is not JSON: {e.Message}"); }
        using (document) return Read(document.RootElement);
    }

    public static SubmissionBody Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ApiRequestException(400, "the body must be a JSON object {type, inputs, tag}");
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name is not ("type" or "inputs" or "tag"))
                throw new ApiRequestException(400, $"unknown field '{property.Name}' (a submission is {{type, inputs, tag}})");
        }
        if (!root.TryGetProperty("type", out var jobType) || jobType.ValueKind != JsonValueKind.String)
            throw new JobInputException("type", $"is required, a string: one of {string.Join(", ", JobTypes.All.Select(t => t.Name))}");
        string? tag = null;
        if (root.TryGetProperty("tag", out var tagElement) && tagElement.ValueKind != JsonValueKind.Null)
        {
            if (tagElement.ValueKind != JsonValueKind.String) throw new JobInputException("tag", "must be a string");
            tag = tagElement.GetString();
        }
        var inputs = root.TryGetProperty("inputs", out var inputsElement) ? ReadInputs(inputsElement) : new Dictionary<string, string?>(StringComparer.Ordinal);
        return new SubmissionBody(jobType.GetString(), inputs, tag);
    }

    /// <summary>
    /// A submission's <c>inputs</c> object as text, the one rule for the API's body and a state machine's input: a string as
    /// given, a number as written (<c>"rid": 5</c> is <c>"5"</c>); anything else a <see cref="JobInputException"/> naming the input.
    /// </summary>
    public static Dictionary<string, string?> ReadInputs(JsonElement inputsElement)
    {
        if (inputsElement.ValueKind != JsonValueKind.Object) throw new JobInputException("inputs", "must be an object of input names and values");
        var inputs = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var input in inputsElement.EnumerateObject())
        {
            inputs[input.Name] = input.Value.ValueKind switch
            {
                JsonValueKind.String => input.Value.GetString(),
                JsonValueKind.Number => input.Value.GetRawText(),
                _ => throw new JobInputException(input.Name, "must be a string or a number"),
            };
        }
        return inputs;
    }
}
