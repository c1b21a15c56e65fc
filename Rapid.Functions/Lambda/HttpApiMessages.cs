using System.Text;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Rapid.Functions.Lambda;

/// <summary>
/// An API Gateway HTTP API request, payload format 2.0 (the fields the job API reads; the sample, written from AWS's
/// documented format rather than captured, is Rapid.Functions.Tests/Lambda/Events/http-api-v2-iam-post-jobs.json).
/// Header names arrive lower-cased.
/// </summary>
public sealed record HttpApiRequest
{
    public string? Version { get; set; }
    public string? RouteKey { get; set; }
    public string? RawPath { get; set; }
    public IReadOnlyDictionary<string, string>? Headers { get; set; }
    public IReadOnlyDictionary<string, string>? PathParameters { get; set; }
    public string? Body { get; set; }
    public bool IsBase64Encoded { get; set; }
    public HttpApiRequestContext? RequestContext { get; set; }

    /// <summary>The body's bytes (API Gateway base64-encodes bodies it does not take for text).</summary>
    public byte[] BodyBytes() => Body is null ? [] : IsBase64Encoded ? Convert.FromBase64String(Body) : Encoding.UTF8.GetBytes(Body);

    public string? Header(string name) => Headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    public string? PathParameter(string name) => PathParameters?.GetValueOrDefault(name);
}

public sealed record HttpApiRequestContext
{
    public string? RequestId { get; set; }
    public HttpApiRequestHttp? Http { get; set; }
}

public sealed record HttpApiRequestHttp
{
    public string? Method { get; set; }
    public string? Path { get; set; }
}

/// <summary>The answer of a payload format 2.0 integration: status, headers and a JSON body.</summary>
public sealed record HttpApiResponse(int StatusCode, IReadOnlyDictionary<string, string> Headers, string Body, [property: JsonPropertyName("isBase64Encoded")] bool IsBase64Encoded = false)
{
    public static HttpApiResponse Json(int status, JsonNode body, IReadOnlyDictionary<string, string>? headers = null)
    {
        var all = new Dictionary<string, string>(headers ?? new Dictionary<string, string>()) { ["content-type"] = "application/json; charset=utf-8" };
        return new HttpApiResponse(status, all, body.ToJsonString());
    }

    public static HttpApiResponse Error(int status, string message) => Json(status, Rapid.Functions.Api.JobApiDocuments.Error(message));

    /// <summary>
    /// Reads a request from the λ's input, answers it with <paramref name="answer"/> and writes the answer. A failure the
    /// answer did not handle is one line in the function's log and a 500 that tells the caller only that the server
    /// failed (no internals), with the request id to find that line.
    /// </summary>
    public static async Task<Stream> ServeAsync(Stream input, Func<HttpApiRequest, Task<HttpApiResponse>> answer)
    {
        var request = LambdaStreams.Read(input, LambdaJsonContext.Default.HttpApiRequest, "HTTP API request");
        HttpApiResponse response;
        try
        {
            response = await answer(request);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"{request.RouteKey} ({request.RequestContext?.RequestId}): {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            response = Error(500, $"the server failed: {e.GetType().Name} (see its log, request {request.RequestContext?.RequestId})");
        }
        return LambdaStreams.Write(response, LambdaJsonContext.Default.HttpApiResponse);
    }
}
