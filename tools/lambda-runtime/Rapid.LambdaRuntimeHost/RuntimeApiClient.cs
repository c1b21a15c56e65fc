using System.Net.Http.Headers;

namespace Rapid.LambdaRuntimeHost;

/// <summary>One invocation handed out by the Runtime API: its request id and event payload.</summary>
public sealed record Invocation(string RequestId, byte[] Event);

/// <summary>
/// The client side of the Lambda Runtime API (version 2018-06-01) at <c>AWS_LAMBDA_RUNTIME_API</c>:
/// GET <c>/runtime/invocation/next</c> (blocks until an event arrives; the request id is in
/// <c>Lambda-Runtime-Aws-Request-Id</c>), POST <c>/runtime/invocation/{id}/response</c>, POST
/// <c>/runtime/invocation/{id}/error</c> and POST <c>/runtime/init/error</c>, errors in Lambda's
/// standard format with their type in <c>Lambda-Runtime-Function-Error-Type</c>.
/// </summary>
public sealed class RuntimeApiClient(string hostAndPort) : IDisposable
{
    public const string RequestIdHeader = "Lambda-Runtime-Aws-Request-Id";
    public const string ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";

    // The next-invocation call blocks for as long as the function is idle.
    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://{hostAndPort}/2018-06-01/"), Timeout = Timeout.InfiniteTimeSpan };

    public async Task<Invocation> NextAsync()
    {
        using var response = await _http.GetAsync("runtime/invocation/next");
        response.EnsureSuccessStatusCode();
        var requestId = response.Headers.TryGetValues(RequestIdHeader, out var ids) ? ids.Single()
            : throw new InvalidDataException($"the Runtime API's next invocation has no {RequestIdHeader} header");
        return new Invocation(requestId, await response.Content.ReadAsByteArrayAsync());
    }

    public async Task RespondAsync(string requestId, Stream? output)
    {
        using var content = output is null ? new ByteArrayContent([]) : (HttpContent)new StreamContent(output);
        using var response = await _http.PostAsync($"runtime/invocation/{requestId}/response", content);
        response.EnsureSuccessStatusCode();
    }

    public Task ReportInvocationErrorAsync(string requestId, Exception error) =>
        PostErrorAsync($"runtime/invocation/{requestId}/error", error);

    public Task ReportInitializationErrorAsync(Exception error) => PostErrorAsync("runtime/init/error", error);

    private async Task PostErrorAsync(string path, Exception error)
    {
        using var content = new ByteArrayContent(ErrorDocument.Write(error));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(ErrorDocument.ContentType);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Add(ErrorTypeHeader, ErrorDocument.ErrorType(error));
        using var response = await _http.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    public void Dispose() => _http.Dispose();
}
