using System.Net.Http.Headers;
using System.Text.Json;

namespace Rapid.Functions.Lambda;

/// <summary>User name and password of the ops database. Never written to logs: ToString hides the password.</summary>
public sealed record DatabaseCredentials(string Username, string Password)
{
    public override string ToString() => $"DatabaseCredentials {{ Username = {Username}, Password = *** }}";
}

/// <summary>
/// Reads the database secret (JSON with <c>username</c> and <c>password</c>, as RDS generates it)
/// through the AWS Parameters and Secrets Lambda extension's local HTTP endpoint, so no Secrets
/// Manager SDK is needed: GET /secretsmanager/get?secretId=… with the function's session token in
/// X-Aws-Parameters-Secrets-Token (AWS documentation, "Use AWS Secrets Manager secrets in Lambda functions").
/// </summary>
public sealed class DatabaseSecret
{
    public const string PortVariable = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT";
    public const string TokenVariable = "AWS_SESSION_TOKEN";
    public const string TokenHeader = "X-Aws-Parameters-Secrets-Token";
    public const int DefaultPort = 2773;

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(15) };

    private readonly Uri _extension;
    private readonly string _token;

    internal DatabaseSecret(Uri extension, string token)
    {
        _extension = extension;
        _token = token;
    }

    public static DatabaseSecret FromEnvironment(LambdaEnvironment env)
    {
        var portText = env.Get(PortVariable) ?? DefaultPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!int.TryParse(portText, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is <= 0 or > 65535)
            throw new InvalidOperationException($"environment variable {PortVariable} = '{portText}' is not a TCP port");
        return new DatabaseSecret(new Uri($"http://localhost:{port}/"), env.Require(TokenVariable));
    }

    public async Task<DatabaseCredentials> FetchAsync(string secretId, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get,
            new Uri(_extension, $"secretsmanager/get?secretId={Uri.EscapeDataString(secretId)}"));
        request.Headers.Add(TokenHeader, _token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await Http.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
            // The extension's error body is a message, never the secret.
            throw new InvalidOperationException(
                $"secret {secretId}: the Parameters and Secrets extension answered {(int)response.StatusCode}: {Truncate(body, 200)}");

        string secretString;
        try
        {
            using var outer = JsonDocument.Parse(body);
            secretString = outer.RootElement.TryGetProperty("SecretString", out var s) && s.ValueKind == JsonValueKind.String
                ? s.GetString()!
                : throw new InvalidDataException($"secret {secretId}: the extension's answer has no SecretString");
        }
        catch (JsonException)
        {
            throw new InvalidDataException($"secret {secretId}: the extension's answer is not JSON");
        }
        try
        {
            using var inner = JsonDocument.Parse(secretString);
            return new DatabaseCredentials(Field(inner.RootElement, "username", secretId), Field(inner.RootElement, "password", secretId));
        }
        catch (JsonException)
        {
            // Say what is wrong without repeating any of the secret.
            throw new InvalidDataException($"secret {secretId}: SecretString is not a JSON object with username and password");
        }
    }

    private static string Field(JsonElement root, string name, string secretId) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
            ? s
            : throw new InvalidDataException($"secret {secretId}: SecretString has no '{name}'");

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "…";
}
