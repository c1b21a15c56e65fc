using System.Text.Json;

namespace Rapid.LambdaRuntimeHost;

/// <summary>
/// Lambda's standard error format (<c>application/vnd.aws.lambda.error+json</c>): <c>errorType</c>
/// (the exception's type name, which Step Functions uses as the state's Error), <c>errorMessage</c>,
/// <c>stackTrace</c> (one line a frame) and, for an inner exception, <c>cause</c> of the same shape.
/// </summary>
public static class ErrorDocument
{
    public const string ContentType = "application/vnd.aws.lambda.error+json";

    public static string ErrorType(Exception e) => e.GetType().Name;

    public static byte[] Write(Exception exception)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
            WriteObject(json, exception);
        return buffer.ToArray();
    }

    private static void WriteObject(Utf8JsonWriter json, Exception e)
    {
        json.WriteStartObject();
        json.WriteString("errorType", ErrorType(e));
        json.WriteString("errorMessage", e.Message);
        json.WriteStartArray("stackTrace");
        foreach (var line in (e.StackTrace ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            json.WriteStringValue(line);
        json.WriteEndArray();
        if (e.InnerException is { } inner)
        {
            json.WritePropertyName("cause");
            WriteObject(json, inner);
        }
        json.WriteEndObject();
    }
}
