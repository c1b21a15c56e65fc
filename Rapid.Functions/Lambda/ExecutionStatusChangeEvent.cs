using System.Text.Json.Serialization;

namespace Rapid.Functions.Lambda;

// Step Functions' "Step Functions Execution Status Change" event as EventBridge delivers it (AWS Step Functions Developer
// Guide, "Automating Step Functions event delivery with EventBridge": the detail carries the execution's ARN, its state
// machine's, its name, status, start and stop dates, input and output, and for a failed execution its error and cause).
// Only what CloseExecution reads; Step Functions may add fields, which are ignored. The sample the tests read
// (Rapid.Functions.Tests/Lambda/Events/sfn-execution-status-change-timed-out.json) is written from that documented format,
// not captured from a real event.

public sealed record ExecutionStatusChangeEvent
{
    [JsonPropertyName("detail-type")]
    public string? DetailType { get; set; }
    public string? Source { get; set; }
    public ExecutionStatusDetail? Detail { get; set; }
}

public sealed record ExecutionStatusDetail
{
    public string? ExecutionArn { get; set; }
    public string? StateMachineArn { get; set; }
    public string? Name { get; set; }
    /// <summary>RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED (or PENDING_REDRIVE).</summary>
    public string? Status { get; set; }
    public string? Error { get; set; }
    public string? Cause { get; set; }
}

/// <summary>The statuses of an execution that ended without succeeding: the rule's pattern and the handler's filter.</summary>
public static class EndedExecutionStatuses
{
    public const string Failed = "FAILED";
    public const string TimedOut = "TIMED_OUT";
    public const string Aborted = "ABORTED";

    public static readonly IReadOnlyList<string> All = [Failed, TimedOut, Aborted];
}
