using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rapid.Functions.Lambda;

/// <summary>StartExecution's request (AWS Step Functions API Reference).</summary>
public sealed record StartExecutionRequest(string StateMachineArn, string Name, string Input);

/// <summary>What StartExecution did: started the execution, or found one of that name already (started before).</summary>
public sealed record ExecutionStart(string ExecutionArn, bool AlreadyStarted);

/// <summary>StartExecution's answer and error documents (the awsJson1_0 protocol).</summary>
public sealed record StartExecutionResponse(string? ExecutionArn);

/// <summary>StopExecution's request (AWS Step Functions API Reference): the execution, and the error and cause it fails with.</summary>
public sealed record StopExecutionRequest(string ExecutionArn, string Error, string Cause);

public sealed record AwsJsonError([property: JsonPropertyName("__type")] string? Type, string? Message);

/// <summary>
/// The Step Functions calls the ingest and job API λs make, StartExecution and StopExecution (the job API's cancel), over
/// HTTPS with a SigV4 signature (no Step Functions
/// SDK package is available to this build). An execution's name is unique in its state machine for 90 days: the same
/// name with the same input while it runs returns the same execution, and otherwise the service answers
/// ExecutionAlreadyExists, which here means "started before" (a re-delivered event), not an error. The endpoint is the
/// region's (<c>https://states.{region}.amazonaws.com/</c>) unless AWS_ENDPOINT_URL_SFN names another (the SDKs'
/// documented service-specific endpoint variable; tests point it at a loopback server).
/// </summary>
public sealed class StepFunctionsClient(HttpClient http, Uri endpoint, string region, Func<AwsCredentials> credentials, TimeProvider? clock = null)
{
    public const string EndpointVariable = "AWS_ENDPOINT_URL_SFN";

    public static StepFunctionsClient FromEnvironment(Func<string, string?> lookup, HttpClient http)
    {
        var region = lookup("AWS_REGION") ?? throw new InvalidOperationException("AWS_REGION is not set (Lambda sets it)");
        var endpoint = lookup(EndpointVariable) is { Length: > 0 } url ? new Uri(url) : new Uri($"https://states.{region}.amazonaws.com/");
        return new StepFunctionsClient(http, endpoint, region, () => AwsCredentials.FromEnvironment(lookup));
    }

    public async Task<ExecutionStart> StartExecutionAsync(StartExecutionRequest request, CancellationToken ct = default)
    {
        var (status, text, type, message) = await PostAsync("StartExecution", JsonSerializer.Serialize(request, LambdaJsonContext.Default.StartExecutionRequest), ct);
        if (status == HttpStatusCode.OK)
        {
            var started = JsonSerializer.Deserialize(text, LambdaJsonContext.Default.StartExecutionResponse);
            return new ExecutionStart(started?.ExecutionArn ?? throw new InvalidDataException($"StartExecution answered without an executionArn: {Short(text)}"), false);
        }
        if (status == HttpStatusCode.BadRequest && type == "ExecutionAlreadyExists")
            return new ExecutionStart(ExecutionArnOf(request), true);
        throw new HttpRequestException($"StartExecution {request.Name} on {request.StateMachineArn}: HTTP {(int)status} {type ?? ""} {message}".TrimEnd(), null, status);
    }

    /// <summary>Stops a running execution (its Batch jobs are terminated by Step Functions); an error of the service is thrown, named.</summary>
    public async Task StopExecutionAsync(StopExecutionRequest request, CancellationToken ct = default)
    {
        var (status, _, type, message) = await PostAsync("StopExecution", JsonSerializer.Serialize(request, LambdaJsonContext.Default.StopExecutionRequest), ct);
        if (status != HttpStatusCode.OK)
            throw new HttpRequestException($"StopExecution {request.ExecutionArn}: HTTP {(int)status} {type ?? ""} {message}".TrimEnd(), null, status);
    }

    /// <summary>A signed awsJson1_0 POST of <paramref name="body"/> to the <paramref name="action"/> target: the status, body, and the error's type and message.</summary>
    private async Task<(HttpStatusCode Status, string Text, string? ErrorType, string? ErrorMessage)> PostAsync(string action, string body, CancellationToken ct)
    {
        var headers = new Dictionary<string, string>
        {
            ["content-type"] = "application/x-amz-json-1.0",
            ["x-amz-target"] = $"AWSStepFunctions.{action}",
        };
        var host = endpoint.IsDefaultPort ? endpoint.Host : $"{endpoint.Host}:{endpoint.Port}";
        var signed = SigV4.Sign("POST", host, "/", headers, body, credentials(), region, "states", (clock ?? TimeProvider.System).GetUtcNow());
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, "/"))
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)),
        };
        foreach (var (name, value) in signed)
        {
            if (name == "content-type") message.Content.Headers.TryAddWithoutValidation("Content-Type", value);
            else if (name != "host") message.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await http.SendAsync(message, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.IsSuccessStatusCode) return (HttpStatusCode.OK, text, null, null);
        AwsJsonError? error = null;
        try { error = JsonSerializer.Deserialize(text, LambdaJsonContext.Default.AwsJsonError); } catch (JsonException) { }
        var type = error?.Type is { } t ? t[(t.LastIndexOf('#') + 1)..] : null;
        return (response.StatusCode, text, type, error?.Message ?? Short(text));
    }

    /// <summary>An execution's ARN from its state machine's and its name (how Step Functions forms them).</summary>
    public static string ExecutionArnOf(StartExecutionRequest request)
    {
        var at = request.StateMachineArn.IndexOf(":stateMachine:", StringComparison.Ordinal);
        return at < 0 ? request.Name : $"{request.StateMachineArn[..at]}:execution:{request.StateMachineArn[(at + ":stateMachine:".Length)..]}:{request.Name}";
    }

    private static string Short(string text) => text.Length > 300 ? text[..300] + "..." : text;
}
