namespace Rapid.Core.Pipelines;

/// <summary>Pipeline ids (ppid) as in the original ops database's <c>pipelines</c> table.</summary>
public static class PipelineIds
{
    public const int ReferenceImage = 12;
    public const int Science = 15;
    public const int PostProcessing = 17;
    /// <summary>The night's injection-recovery merge and completeness (its own stage, after post-processing).</summary>
    public const int NightRecovery = 18;

    public static readonly IReadOnlyList<int> All = [ReferenceImage, Science, PostProcessing, NightRecovery];

    public static string Describe(int ppid) => ppid switch
    {
        ReferenceImage => "reference image",
        Science => "science (difference image)",
        PostProcessing => "post-processing",
        NightRecovery => "night injection-recovery",
        _ => $"unknown pipeline {ppid}",
    };

    /// <summary>A word or two for narrow places (a console table's first column, a plot's legend).</summary>
    public static string Label(int ppid) => ppid switch
    {
        ReferenceImage => "reference",
        Science => "science",
        PostProcessing => "post-processing",
        NightRecovery => "night recovery",
        _ => $"ppid {ppid}",
    };
}

/// <summary>
/// The pipelines' names in JSON: the discriminator of a job config's spec and a manifest's outcome
/// (<c>"pipeline": "science"</c>). Stable: they are in every config and manifest written.
/// </summary>
public static class PipelineNames
{
    public const string ReferenceImage = "reference";
    public const string Science = "science";
    public const string PostProcessing = "postprocessing";
    public const string NightRecovery = "nightrecovery";
}
