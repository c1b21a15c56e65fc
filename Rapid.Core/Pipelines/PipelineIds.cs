namespace Rapid.Core.Pipelines;

/// <summary>Pipeline ids (ppid) as in the original ops database's <c>pipelines</c> table.</summary>
public static class PipelineIds
{
    public const int ReferenceImage = 12;
    public const int Science = 15;
    public const int PostProcessing = 17;

    public static readonly IReadOnlyList<int> All = [ReferenceImage, Science, PostProcessing];

    public static string Describe(int ppid) => ppid switch
    {
        ReferenceImage => "reference image",
        Science => "science (difference image)",
        PostProcessing => "post-processing",
        _ => $"unknown pipeline {ppid}",
    };
}
