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

    /// <summary>The night of <see cref="OpsWorld.Window"/> on <see cref="OpsWorld.ProcDate"/>, as ResolveWindow returns it.</summary>
    public static string NightJson(bool force = false) =>
        $$"""{"startDateTime":"{{ObservationWindow.Format(OpsWorld.Window.Start)}}","endDateTime":"{{ObservationWindow.Format(OpsWorld.Window.End)}}","procDate":"{{OpsWorld.ProcDate}}","force":{{(force ? "true" : "false")}}}""";
}
