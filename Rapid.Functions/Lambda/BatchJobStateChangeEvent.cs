using System.Text.Json;
using System.Text.Json.Serialization;
using Rapid.Core.Batch;
using Rapid.Core.Storage;
using Rapid.Functions.Record;

namespace Rapid.Functions.Lambda;

// AWS Batch's "Batch Job State Change" event as EventBridge delivers it (AWS Batch User Guide, "Job state change events":
// the detail resembles DescribeJobs' JobDetail). Only what the record reads; Batch may add fields, which are ignored.

public sealed record BatchJobStateChangeEvent
{
    [JsonPropertyName("detail-type")]
    public string? DetailType { get; set; }
    public string? Source { get; set; }
    public DateTimeOffset Time { get; set; }
    public BatchJobDetail? Detail { get; set; }
}

public sealed record BatchJobDetail
{
    public string? JobId { get; set; }
    public string? JobName { get; set; }
    public string? JobQueue { get; set; }
    public string? Status { get; set; }
    public string? StatusReason { get; set; }
    /// <summary>Epoch milliseconds.</summary>
    public long? CreatedAt { get; set; }
    public long? StartedAt { get; set; }
    public long? StoppedAt { get; set; }
    public IReadOnlyList<BatchAttemptDetail>? Attempts { get; set; }
    public BatchContainerDetail? Container { get; set; }
    public BatchArrayProperties? ArrayProperties { get; set; }
}

public sealed record BatchAttemptDetail
{
    public BatchContainerDetail? Container { get; set; }
    public long? StartedAt { get; set; }
    public long? StoppedAt { get; set; }
    public string? StatusReason { get; set; }
}

public sealed record BatchContainerDetail
{
    public IReadOnlyList<BatchKeyValue>? Environment { get; set; }
    public int? ExitCode { get; set; }
    public string? Reason { get; set; }
    public string? LogStreamName { get; set; }
    public string? ContainerInstanceArn { get; set; }
    public string? TaskArn { get; set; }
}

public sealed record BatchKeyValue(string Name, string? Value);

/// <summary>An array job's child has its <see cref="Index"/>; the parent has <see cref="Size"/> (and a summary of its children).</summary>
public sealed record BatchArrayProperties
{
    public int? Index { get; set; }
    public int? Size { get; set; }
}

/// <summary>
/// Turns a Batch job state-change event into the record's <see cref="BatchStateChange"/>s: the job list entry it ran
/// (RAPID_JOB_LIST in the container's environment, the array index of a child, 0 for a single job), which Batch attempt,
/// the state and its time, the exit code and reason, the log stream and container instance. A finished job's event
/// lists its earlier attempts too: each is recorded as failed with its own exit code (retries by Batch itself).
/// An array parent's event (a summary of its children) and a job that is not a Rapid job (no RAPID_JOB_LIST) give none.
/// </summary>
public static class BatchJobEvents
{
    public const string DetailType = "Batch Job State Change";
    public const string EventSource = "aws.batch";

    public static IReadOnlyList<BatchStateChange> Parse(string json)
    {
        BatchJobStateChangeEvent e;
        try
        {
            e = JsonSerializer.Deserialize(json, BatchEventJsonContext.Default.BatchJobStateChangeEvent)
                ?? throw new InvalidDataException("the event is null");
        }
        catch (JsonException x)
        {
            throw new InvalidDataException($"not a Batch job state-change event: {x.Message}", x);
        }
        if (e.Source != EventSource || e.DetailType != DetailType)
            throw new InvalidDataException($"not a Batch job state-change event: source '{e.Source}', detail-type '{e.DetailType}'");
        var d = e.Detail ?? throw new InvalidDataException("a Batch job state-change event without its detail");
        if (d.ArrayProperties is { Index: null, Size: not null }) return [];
        if (d.Container?.Environment?.FirstOrDefault(v => v.Name == BatchEnvironment.JobListVariable)?.Value is not { } listText
            || !ObjectRef.TryParse(listText, out var list))
            return [];
        var state = d.Status switch
        {
            "SUBMITTED" => JobStates.Submitted,
            "PENDING" or "RUNNABLE" => JobStates.Runnable,
            "STARTING" => JobStates.Starting,
            "RUNNING" => JobStates.Running,
            "SUCCEEDED" => JobStates.Succeeded,
            "FAILED" => JobStates.Failed,
            _ => throw new InvalidDataException($"job {d.JobId}: status '{d.Status}' is not a Batch job status"),
        };
        var attempts = d.Attempts ?? [];
        var ended = state is JobStates.Succeeded or JobStates.Failed;
        // A job that ended ran as its last listed attempt (none: it failed before starting); a running one as the next.
        var attempt = ended ? Math.Max(1, attempts.Count) : attempts.Count + 1;
        var common = new BatchStateChange
        {
            JobList = list!, ArrayIndex = d.ArrayProperties?.Index ?? 0, BatchAttempt = attempt, State = state, At = e.Time,
            Source = StateSources.Batch, BatchJobId = d.JobId, JobQueue = QueueName(d.JobQueue), Submitted = Time(d.CreatedAt),
        };
        var changes = new List<BatchStateChange>();
        // Earlier attempts: each ended in failure (Batch retried), with its container's exit code.
        for (var i = 0; i < attempts.Count - (ended ? 1 : 0); i++)
            changes.Add(Ended(common, attempts[i], i + 1, JobStates.Failed));
        if (ended && attempts.Count > 0)
            changes.Add(Ended(common, attempts[^1], attempts.Count, state) with
            {
                Reason = Reason(d.StatusReason, attempts[^1].Container?.Reason ?? d.Container?.Reason),
                ExitCode = attempts[^1].Container?.ExitCode ?? d.Container?.ExitCode,
            });
        else
            changes.Add(common with
            {
                At = state == JobStates.Running && Time(d.StartedAt) is { } started ? started : ended && Time(d.StoppedAt) is { } stopped ? stopped : e.Time,
                Started = state == JobStates.Running ? Time(d.StartedAt) : null,
                Stopped = ended ? Time(d.StoppedAt) : null,
                ExitCode = ended ? d.Container?.ExitCode : null,
                Reason = ended ? Reason(d.StatusReason, d.Container?.Reason) : null,
                LogStream = d.Container?.LogStreamName, ContainerInstance = d.Container?.ContainerInstanceArn,
            });
        return changes;
    }

    private static BatchStateChange Ended(BatchStateChange common, BatchAttemptDetail a, int number, string state) => common with
    {
        BatchAttempt = number, State = state, At = Time(a.StoppedAt) ?? common.At, Started = Time(a.StartedAt), Stopped = Time(a.StoppedAt),
        ExitCode = a.Container?.ExitCode, Reason = Reason(a.StatusReason, a.Container?.Reason), LogStream = a.Container?.LogStreamName,
        ContainerInstance = a.Container?.ContainerInstanceArn,
    };

    private static DateTimeOffset? Time(long? epochMilliseconds) =>
        epochMilliseconds is { } ms and > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    private static string? Reason(string? status, string? container) =>
        (status, container) switch
        {
            (null, null) => null,
            ({ } s, null) => s,
            (null, { } c) => c,
            ({ } s, { } c) => s == c ? s : $"{s}: {c}",
        };

    /// <summary>The queue's name from its ARN (arn:aws:batch:region:account:job-queue/NAME).</summary>
    private static string? QueueName(string? arn) => arn is null ? null : arn[(arn.LastIndexOf('/') + 1)..];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(BatchJobStateChangeEvent))]
internal sealed partial class BatchEventJsonContext : JsonSerializerContext;
