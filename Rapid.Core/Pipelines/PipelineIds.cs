namespace Rapid.Core.Pipelines;

/// <summary>Pipeline ids (ppid) as in the original ops database's <c>pipelines</c> table.</summary>
public static class PipelineIds
{
    public const int ReferenceImage = 12;
    public const int Science = 15;
    public const int PostProcessing = 17;
    /// <summary>The night's injection-recovery merge and completeness (runs in the post-processing array).</summary>
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
}
