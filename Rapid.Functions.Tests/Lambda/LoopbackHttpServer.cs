using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>One HTTP/1.1 request as the server received it.</summary>
internal sealed record ReceivedRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A server on 127.0.0.1 (free port) that answers exactly one request with what <c>respond</c> says,
/// standing in for the Parameters and Secrets extension or a CloudFormation ResponseURL.
/// </summary>
internal sealed class LoopbackHttpServer
{
    private LoopbackHttpServer(Uri endpoint, Task<IReadOnlyList<ReceivedRequest>> received)
    {
        Endpoint = endpoint;
        All = received;
        Received = Last(received);
    }

    private static async Task<ReceivedRequest> Last(Task<IReadOnlyList<ReceivedRequest>> all) => (await all)[^1];

    /// <summary>Completes once every request has been answered, with them in order.</summary>
    public Task<IReadOnlyList<ReceivedRequest>> All { get; }

    public Uri Endpoint { get; }

    /// <summary>Completes once the request has been answered.</summary>
    public Task<ReceivedRequest> Received { get; }

    public static LoopbackHttpServer AnswerOnce(Func<ReceivedRequest, (int Status, string Body)> respond) => Answer(1, respond);

    /// <summary>Answers <paramref name="count"/> requests, one connection each, in turn.</summary>
    public static LoopbackHttpServer Answer(int count, Func<ReceivedRequest, (int Status, string Body)> respond)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var received = Task.Run(async () =>
        {
            try
            {
                var all = new List<ReceivedRequest>();
                for (var i = 0; i < count; i++) all.Add(await AnswerOne(listener, respond));
                return (IReadOnlyList<ReceivedRequest>)all;
            }
            finally
            {
                listener.Stop();
            }
        });
        return new LoopbackHttpServer(new Uri($"http://127.0.0.1:{port}/"), received);
    }

    private static async Task<ReceivedRequest> AnswerOne(TcpListener listener, Func<ReceivedRequest, (int Status, string Body)> respond)
    {
        using var client = await listener.AcceptTcpClientAsync();
        using var stream = client.GetStream();
        var reader = new StreamReader(stream, Encoding.UTF8);
        var requestLine = (await reader.ReadLineAsync() ?? "").Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var line = await reader.ReadLineAsync(); !string.IsNullOrEmpty(line); line = await reader.ReadLineAsync())
        {
            var colon = line.IndexOf(':');
            headers[line[..colon]] = line[(colon + 1)..].Trim();
        }
        var length = headers.TryGetValue("Content-Length", out var l) ? int.Parse(l, System.Globalization.CultureInfo.InvariantCulture) : 0;
        var body = new char[length];
        for (var read = 0; read < length;)
        {
            var n = await reader.ReadAsync(body.AsMemory(read));
            if (n == 0) break;
            read += n;
        }
        var request = new ReceivedRequest(requestLine[0], requestLine.Length > 1 ? requestLine[1] : "", headers, new string(body));
        var (status, answer) = respond(request);
        var bytes = Encoding.UTF8.GetBytes(answer);
        var head = $"HTTP/1.1 {status} {(status < 400 ? "OK" : "Error")}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(bytes);
        return request;
    }
}
