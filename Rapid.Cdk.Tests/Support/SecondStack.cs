namespace Rapid.Cdk.Tests.Support;

/// <summary>
/// A second stack of the same app for the same account and region, as a second deployment (say a
/// test installation beside operations) would be: another <c>rapid:stackName</c>, and arrays of at
/// most 4 jobs, so that a small night takes the Map over chunks; a shorter stage timeout and fewer science vCPUs, so that
/// what the stack derives from them is seen to follow. The Lambda code is bundled for real.
/// </summary>
public sealed class SecondStack() : SynthesizedStack(new Dictionary<string, object>
{
    ["rapid:stackName"] = Name,
    ["rapid:maxArraySize"] = MaxArraySize,
    ["rapid:batchStageTimeoutHours"] = StageTimeoutHours,
    ["rapid:scienceVcpus"] = ScienceVcpus,
    ["rapid:promptProcessing"] = false,
    ["rapid:l2KeyPrefix"] = L2KeyPrefix,
    ["rapid:promptIngestConcurrency"] = PromptIngestConcurrency,
})
{
    public const string Name = "RapidStaging";
    public const int MaxArraySize = 4;
    public const int StageTimeoutHours = 3;
    public const int ScienceVcpus = 2;
    public const string L2KeyPrefix = "incoming/";
    public const int PromptIngestConcurrency = 3;
}
