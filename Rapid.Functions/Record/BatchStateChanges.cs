using Dapper;
using Npgsql;
using Rapid.Core.Storage;

namespace Rapid.Functions.Record;

/// <summary>
/// What Batch (an EventBridge "Batch Job State Change" event) or the local executor says about one entry of a job list:
/// the entry's attempt moved to <see cref="State"/> at <see cref="At"/>. The same typed record from both, recorded by
/// <see cref="BatchStateChanges.RecordAsync"/>.
/// </summary>
public sealed record BatchStateChange
{
    /// <summary>The job list the Batch job ran (its RAPID_JOB_LIST) and the entry (the array index; 0 for a single job).</summary>
    public required ObjectRef JobList { get; init; }
    public required int ArrayIndex { get; init; }
    /// <summary>Batch's attempt of the entry, from 1.</summary>
    public int BatchAttempt { get; init; } = 1;
    /// <summary>One of <see cref="JobStates.Submitted"/>, <see cref="JobStates.Runnable"/>, <see cref="JobStates.Starting"/>,
    /// <see cref="JobStates.Running"/>, <see cref="JobStates.Succeeded"/>, <see cref="JobStates.Failed"/>.</summary>
    public required string State { get; init; }
    public required DateTimeOffset At { get; init; }
    /// <summary><see cref="StateSources.Batch"/> or <see cref="StateSources.Executor"/>.</summary>
    public required string Source { get; init; }
    public DateTimeOffset? Submitted { get; init; }
    public DateTimeOffset? Started { get; init; }
    public DateTimeOffset? Stopped { get; init; }
    public string? BatchJobId { get; init; }
    public string? JobQueue { get; init; }
    /// <summary>The process's (container's) exit code, once it ended.</summary>
    public int? ExitCode { get; init; }
    public string? Reason { get; init; }
    public string? LogStream { get; init; }
    public string? ContainerInstance { get; init; }
    public string? Host { get; init; }
}

/// <summary>
/// Records Batch or executor state changes on the attempts that ran those job list entries (<c>list_attempt</c>: a later
/// Batch attempt of an entry is a new attempt of its job). Idempotent: a change recorded again (SQS redelivers) changes
/// nothing, a change that arrives late never moves an attempt's state back, and times the manifest gave are kept.
/// </summary>
public static class BatchStateChanges
{
    public static readonly IReadOnlySet<string> States = new HashSet<string>(StringComparer.Ordinal)
    {
        JobStates.Submitted, JobStates.Runnable, JobStates.Starting, JobStates.Running, JobStates.Succeeded, JobStates.Failed,
    };

    /// <summary>Records the changes in one transaction; returns how many were about a planned attempt (the rest are not Rapid's jobs).</summary>
    public static async Task<int> RecordAsync(NpgsqlDataSource dataSource, IReadOnlyList<BatchStateChange> changes, CancellationToken ct = default)
    {
        if (changes.Count == 0) return 0;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var recorded = 0;
        foreach (var c in changes)
        {
            if (!States.Contains(c.State)) throw new ArgumentException($"'{c.State}' is not a state Batch or the executor reports");
            if (await conn.ExecuteScalarAsync<bool>(new CommandDefinition("""
                    select record_batch_state(@list, @index, @batchAttempt, @state, @at, @source, @detail, @submitted, @started, @stopped,
                                              @batchJobId, @jobQueue, @exitCode, @reason, @logStream, @containerInstance, @host)
                    """,
                new
                {
                    list = c.JobList.ToString(), index = c.ArrayIndex, batchAttempt = c.BatchAttempt, submitted = c.Submitted, started = c.Started,
                    stopped = c.Stopped, batchJobId = c.BatchJobId, jobQueue = c.JobQueue, exitCode = c.ExitCode, reason = c.Reason,
                    logStream = c.LogStream, containerInstance = c.ContainerInstance, host = c.Host, state = c.State, at = c.At, source = c.Source,
                    detail = Detail(c),
                }, tx, cancellationToken: ct)))
                recorded++;
        }
        await tx.CommitAsync(ct);
        return recorded;
    }

    private static string? Detail(BatchStateChange c) => c.State switch
    {
        JobStates.Succeeded or JobStates.Failed => $"exit {c.ExitCode?.ToString() ?? "-"}" + (c.Reason is { } r ? $": {r}" : ""),
        _ => c.BatchJobId is { } id ? $"Batch job {id}" : null,
    };
}
