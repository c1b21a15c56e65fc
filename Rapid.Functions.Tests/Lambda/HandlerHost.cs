using System.Text;
using Rapid.Core.Batch;
using Rapid.Core.Jobs;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>Runs a handler's <c>Stream Handle(Stream)</c> on JSON text, with the environment a test gives it.</summary>
internal static class HandlerHost
{
    /// <summary>The environment of a handler run against an <see cref="OpsWorld"/>: its directory store and database.</summary>
    public static Func<string, string?> EnvironmentOf(OpsWorld world, Dictionary<string, string>? extra = null)
    {
        var values = new Dictionary<string, string>
        {
            [BatchEnvironment.StoreRootVariable] = world.StoreRoot,
            [OpsDb.ConnectionVariable] = world.DataSource.ConnectionString,
            ["RAPID_TIME_ZONE"] = ProcessingDate.DefaultTimeZone,
        };
        foreach (var (k, v) in extra ?? []) values[k] = v;
        return name => values.GetValueOrDefault(name);
    }

    public static string Invoke(Func<Stream, Stream> handle, string json)
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(json));
        using var output = handle(input);
        using var reader = new StreamReader(output, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// A call of the job API's <paramref name="routeKey"/> through <paramref name="handle"/>: the recorded HTTP API payload 2.0
    /// sample (Events/http-api-v2-iam-post-jobs.json) with this call's route, path, body and <c>{id}</c>; the status and the body.
    /// </summary>
    public static (int Status, System.Text.Json.Nodes.JsonObject Body) Http(Func<Stream, Stream> handle, string routeKey, string path, string? body = null,
        string? id = null)
    {
        var request = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Lambda", "Events", "http-api-v2-iam-post-jobs.json")))!.AsObject();
        request["routeKey"] = routeKey;
        request["requestContext"]!["routeKey"] = routeKey;
        request["rawPath"] = path;
        request["requestContext"]!["http"]!["method"] = routeKey[..routeKey.IndexOf(' ', StringComparison.Ordinal)];
        request["requestContext"]!["http"]!["path"] = path;
        request["headers"]!.AsObject().Remove("content-length");
        if (body is null) request.Remove("body");
        else request["body"] = body;
        if (id is not null) request["pathParameters"] = new System.Text.Json.Nodes.JsonObject { ["id"] = id };
        var response = System.Text.Json.Nodes.JsonNode.Parse(Invoke(handle, request.ToJsonString()))!;
        return (response["statusCode"]!.GetValue<int>(), System.Text.Json.Nodes.JsonNode.Parse(response["body"]!.GetValue<string>())!.AsObject());
    }

    /// <summary>The night of <see cref="OpsWorld.Window"/> on <see cref="OpsWorld.ProcDate"/>, as ResolveWindow returns it.</summary>
    public static string NightJson(bool force = false) =>
        $$"""{"startDateTime":"{{ObservationWindow.Format(OpsWorld.Window.Start)}}","endDateTime":"{{ObservationWindow.Format(OpsWorld.Window.End)}}","procDate":"{{OpsWorld.ProcDate}}","force":{{(force ? "true" : "false")}}}""";
}
