using System.Net;
using System.Net.Sockets;
using System.Text;
using Rapid.Functions.Lambda;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>Against a one-request HTTP server on 127.0.0.1 standing in for the Parameters and Secrets extension.</summary>
public sealed class DatabaseSecretTests
{
    private const string SecretId = "arn:aws:secretsmanager:us-west-2:123456789012:secret:rapid-db-AbCdEf";
    private const string Token = "session-token-123";

    /// <summary>Answers one request: the secret when the token header is right, 401 otherwise. Returns the request line.</summary>
    private static async Task<(Uri Endpoint, Task<string> RequestLine)> ExtensionAsync(string secretString)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var served = Task.Run(async () =>
        {
            try
            {
                using var client = await listener.AcceptTcpClientAsync();
                using var stream = client.GetStream();
                var reader = new StreamReader(stream, Encoding.ASCII);
                var requestLine = await reader.ReadLineAsync() ?? "";
                var headers = new List<string>();
                for (var line = await reader.ReadLineAsync(); !string.IsNullOrEmpty(line); line = await reader.ReadLineAsync())
                    headers.Add(line);
                var authorised = headers.Any(h => h.Equals($"{DatabaseSecret.TokenHeader}: {Token}", StringComparison.OrdinalIgnoreCase));
                var body = authorised
                    ? System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["ARN"] = SecretId, ["SecretString"] = secretString })
                    : "missing or invalid token";
                var status = authorised ? "200 OK" : "401 Unauthorized";
                var bytes = Encoding.UTF8.GetBytes(body);
                var head = $"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
                await stream.WriteAsync(bytes);
                return requestLine;
            }
            finally
            {
                listener.Stop();
            }
        });
        await Task.Yield();
        return (new Uri($"http://127.0.0.1:{port}/"), served);
    }

    [Fact]
    public async Task Fetches_the_user_name_and_password_with_the_session_token()
    {
        var (endpoint, requestLine) = await ExtensionAsync("""{"username":"rapid_admin","password":"p@ss w0rd","engine":"postgres"}""");
        var secret = new DatabaseSecret(endpoint, Token);

        var credentials = await secret.FetchAsync(SecretId);

        Assert.Equal(("rapid_admin", "p@ss w0rd"), (credentials.Username, credentials.Password));
        Assert.StartsWith($"GET /secretsmanager/get?secretId={Uri.EscapeDataString(SecretId)} ", await requestLine);
    }

    [Fact]
    public async Task A_wrong_token_fails_naming_the_secret()
    {
        var (endpoint, served) = await ExtensionAsync("""{"username":"u","password":"p"}""");
        var wrong = new DatabaseSecret(endpoint, "not-the-token");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => wrong.FetchAsync(SecretId));

        Assert.Contains(SecretId, e.Message);
        Assert.Contains("401", e.Message);
        await served;
    }

    [Fact]
    public async Task A_secret_without_a_password_fails_without_repeating_the_secret()
    {
        var (endpoint, served) = await ExtensionAsync("""{"username":"rapid_admin","pass":"hunter2"}""");
        var secret = new DatabaseSecret(endpoint, Token);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => secret.FetchAsync(SecretId));

        Assert.Contains("'password'", e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
        await served;
    }

    [Fact]
    public void Credentials_never_print_their_password()
    {
        Assert.DoesNotContain("hunter2", new DatabaseCredentials("rapid_admin", "hunter2").ToString());
    }
}
