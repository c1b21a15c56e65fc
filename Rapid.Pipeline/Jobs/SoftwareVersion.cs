using System.Reflection;

namespace Rapid.Pipeline.Jobs;

/// <summary>The pipeline's version as recorded in every manifest: the assembly's informational version.</summary>
public static class SoftwareVersion
{
    public static string Current { get; } =
        typeof(SoftwareVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(SoftwareVersion).Assembly.GetName().Version?.ToString() ?? "unknown";
}
