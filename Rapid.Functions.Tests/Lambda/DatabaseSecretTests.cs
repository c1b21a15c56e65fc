using System.Text.Json;
using Rapid.Functions.Lambda;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>Against a one-request HTTP server on 127.0.0.1 standing in for the Parameters and Secrets extension.</summary>
public sealed class DatabaseSecretTests
{
    private const string SecretId = "arn:aws:secretsmanager:us-west-2:123456789012:secret:rapid-db-AbCdEf";
    private const string Token = "session-token-123";

    /// <summary>The extension: the secret when the token header is right, 401 otherwise.</summary>
    private static LoopbackHttpServer Extension(string secretString) => LoopbackHttpServer.AnswerOnce(request =>
        request.Headers.TryGetValue(DatabaseSecret.TokenHeader, out var token) && token == Token
            ? (200, JsonSerializer.Serialize(new Dictionary<string, string> { ["ARN"] = SecretId, ["SecretString"] = secretString }))
            : (401, "missing or invalid token"));

    [Fact]
    public async Task Fetches_the_user_name_and_password_with_the_session_token()
    {
        var extension = Extension("""{"username":"rapid_admin","password":"p@ss w0rd","engine":"postgres"}""");

        var credentials = await new DatabaseSecret(extension.Endpoint, Token).FetchAsync(SecretId);

        Assert.Equal(("rapid_admin", "p@ss w0rd"), (credentials.Username, credentials.Password));
        var request = await extension.Received;
        Assert.Equal(("GET", $"/secretsmanager/get?secretId={Uri.EscapeDataString(SecretId)}"), (request.Method, request.Target));
    }

    [Fact]
    public async Task A_wrong_token_fails_naming_the_secret()
    {
        var extension = Extension("""{"username":"u","password":"p"}""");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => new DatabaseSecret(extension.Endpoint, "not-the-token").FetchAsync(SecretId));

        Assert.Contains(SecretId, e.Message);
        Assert.Contains("401", e.Message);
    }

    [Fact]
    public async Task A_secret_without_a_password_fails_without_repeating_the_secret()
    {
        var extension = Extension("""{"username":"rapid_admin","pass":"hunter2"}""");

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new DatabaseSecret(extension.Endpoint, Token).FetchAsync(SecretId));

        Assert.Contains("'password'", e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public void Credentials_never_print_their_password()
    {
        Assert.DoesNotContain("hunter2", new DatabaseCredentials("rapid_admin", "hunter2").ToString());
    }
}
