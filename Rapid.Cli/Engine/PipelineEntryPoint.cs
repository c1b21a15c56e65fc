namespace Rapid.Cli.Engine;

/// <summary>
/// Where the pipeline's container entry point (Rapid.Pipeline.dll) is: built beside the CLI,
/// run with the same `dotnet` host. The Dockerfile's ENTRYPOINT runs the same assembly.
/// </summary>
public sealed record PipelineEntryPoint(string Host, IReadOnlyList<string> Arguments)
{
    public static PipelineEntryPoint BesideCli()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Rapid.Pipeline.dll");
        if (!File.Exists(dll) || !File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")))
            throw new FileNotFoundException($"the pipeline entry point {dll} (and its runtimeconfig.json) is not built; run ./rapid again to build it");
        return new PipelineEntryPoint(DotnetHost(), [dll]);
    }

    private static string DotnetHost() =>
        Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
}
