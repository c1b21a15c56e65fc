using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Functions.Lambda;

/// <summary>A CloudFormation custom resource request (only what the schema migration reads).</summary>
public sealed record CustomResourceRequest(
    string RequestType, string ResponseUrl, string StackId, string RequestId, string LogicalResourceId)
{
    public string? PhysicalResourceId { get; set; }
}

/// <summary>The response CloudFormation expects at the pre-signed ResponseURL (its names are PascalCase).</summary>
public sealed record CustomResourceResponse(
    [property: JsonPropertyName("Status")] string Status,
    [property: JsonPropertyName("Reason")] string Reason,
    [property: JsonPropertyName("PhysicalResourceId")] string PhysicalResourceId,
    [property: JsonPropertyName("StackId")] string StackId,
    [property: JsonPropertyName("RequestId")] string RequestId,
    [property: JsonPropertyName("LogicalResourceId")] string LogicalResourceId,
    [property: JsonPropertyName("Data")] IReadOnlyDictionary<string, string> Data);

/// <summary>
/// Migrate λ, the handler of a Lambda-backed CloudFormation custom resource: on Create and Update
/// applies the pending schema migrations (the same embedded migrations as the embedded mode, through
/// <see cref="MigrationRunner"/>) and sets the operations role's login, on Delete changes nothing
/// (the database keeps its data). The
/// outcome, success or failure, is PUT to the request's pre-signed ResponseURL, as the custom
/// resource protocol requires: otherwise the stack would wait for its timeout.
/// </summary>
public sealed class MigrateHandler
{
    /// <summary>Stable, so an Update never looks like a replacement to CloudFormation.</summary>
    public const string PhysicalResourceId = "rapid-ops-schema";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private readonly LambdaEnvironment _env;

    public MigrateHandler() : this(Environment.GetEnvironmentVariable) { }

    internal MigrateHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(HandleAsync(input));

    private async Task<Stream> HandleAsync(Stream input)
    {
        var request = LambdaStreams.Read(input, LambdaJsonContext.Default.CustomResourceRequest, "custom resource request");
        CustomResourceResponse response;
        try
        {
            var applied = request.RequestType switch
            {
                "Create" or "Update" => await MigrateAsync(),
                "Delete" => [],
                _ => throw new InvalidDataException($"RequestType '{request.RequestType}' is not Create, Update or Delete"),
            };
            var latest = MigrationRunner.Embedded().Select(m => m.Version).DefaultIfEmpty(0).Max();
            response = Respond(request, "SUCCESS",
                request.RequestType == "Delete" ? "schema left in place" : $"{applied.Count} migrations applied",
                new Dictionary<string, string>
                {
                    ["Applied"] = string.Join(",", applied.Select(v => v.ToString(CultureInfo.InvariantCulture))),
                    ["SchemaVersion"] = latest.ToString(CultureInfo.InvariantCulture),
                });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"schema migration failed: {e}");
            // The message names the migration or the server, never the password (OpsDb.Describe).
            var reason = e.Message.Length <= 1000 ? e.Message : e.Message[..1000];
            response = Respond(request, "FAILED", reason, new Dictionary<string, string>());
        }
        await SendAsync(request.ResponseUrl, response);
        return LambdaStreams.Write(response, LambdaJsonContext.Default.CustomResourceResponse);
    }

    /// <summary>
    /// Applies the migrations as the owner (the master secret, RAPID_DB_SECRET_ID), then lets the
    /// operations role log in with the password of its own secret (RAPID_DB_OPS_SECRET_ID), which the
    /// other functions connect with: the master secret stays with this function alone.
    /// </summary>
    private async Task<IReadOnlyList<int>> MigrateAsync()
    {
        var owner = await _env.DataSourceAsync();
        var applied = await new MigrationRunner(owner, Console.WriteLine).MigrateAsync();
        // A full connection string (RAPID_DB: tests of the handler in process) comes without secrets.
        if (_env.ConnectionString is not null) return applied;
        var opsSecretId = _env.Require(LambdaEnvironment.DbOpsSecretIdVariable);
        var ops = await DatabaseSecret.FromEnvironment(_env).FetchAsync(opsSecretId);
        await OpsRoles.EnableLoginAsync(owner, ops.Username, ops.Password);
        Console.WriteLine($"role {ops.Username} may log in with the password of secret {opsSecretId}");
        return applied;
    }

    private static CustomResourceResponse Respond(CustomResourceRequest request, string status, string reason, IReadOnlyDictionary<string, string> data) =>
        new(status, reason,
            // A failed Create has no physical id yet: CloudFormation still needs one to roll back.
            request.PhysicalResourceId ?? PhysicalResourceId,
            request.StackId, request.RequestId, request.LogicalResourceId, data);

    /// <summary>PUT without a Content-Type: the pre-signed URL was signed without one.</summary>
    private static async Task SendAsync(string responseUrl, CustomResourceResponse response)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(response, LambdaJsonContext.Default.CustomResourceResponse));
        content.Headers.ContentType = null;
        using var put = await Http.PutAsync(new Uri(responseUrl), content);
        if (!put.IsSuccessStatusCode)
            throw new InvalidOperationException($"the custom resource response was refused: HTTP {(int)put.StatusCode} from the ResponseURL");
    }
}
