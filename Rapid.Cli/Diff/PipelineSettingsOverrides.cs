using Rapid.Core.Contracts;

namespace Rapid.Cli.Diff;

/// <summary>
/// <c>--set name=value</c> for <c>rapid diff</c>: every setting by its JSON (camelCase) name, matched without regard to
/// case, through <see cref="PipelineSettingsJson"/> (the same code settings profiles go through).
/// </summary>
public static class PipelineSettingsOverrides
{
    public static PipelineSettings Apply(PipelineSettings settings, IEnumerable<string> assignments)
    {
        try { return PipelineSettingsJson.WithAssignments(settings, assignments, "diff: --set "); }
        catch (SettingsException e) { throw new ArgumentException(e.Message, e); }
    }

    /// <summary>"name=default" for every setting, for --help.</summary>
    public static string Describe() =>
        string.Join(", ", SettingsDocumentation.Entries().Select(e => $"{e.Name}={e.Default}"));
}
