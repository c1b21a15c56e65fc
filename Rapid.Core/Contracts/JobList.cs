using Rapid.Core.Storage;

namespace Rapid.Core.Contracts;

/// <summary>
/// The jobs of one planned Batch array: child i runs <c>Jobs[i]</c>. Kept in the object store so
/// the state machine carries only its key and size, never the list.
/// </summary>
public sealed record JobList
{
    public const int CurrentSchemaVersion = 1;
    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    public required int Ppid { get; init; }
    public required string ProcDate { get; init; }
    public IReadOnlyList<JobListEntry> Jobs { get; set; } = [];
}

public sealed record JobListEntry(long Jid, ObjectRef Config, ObjectRef Manifest);

/// <summary>What a plan step returns: small enough for a Step Functions state.</summary>
public sealed record PlanResult
{
    public required int Ppid { get; init; }
    public required string ProcDate { get; init; }
    /// <summary>Null when nothing was planned.</summary>
    public ObjectRef? JobList { get; init; }
    public int ArraySize { get; init; }
    /// <summary>Jobs closed out at planning time without running (e.g. exit 33: no reference possible).</summary>
    public int ClosedAtPlanning { get; init; }
    /// <summary>
    /// Only above AWS Batch's 10,000 children per array job: the same jobs as <see cref="JobList"/>
    /// (which still lists them all), split into array jobs of 2..10,000; the state machine maps over them.
    /// </summary>
    public IReadOnlyList<JobListChunk>? Chunks { get; init; }
}

/// <summary>One array job's share of a plan too large for a single array job.</summary>
public sealed record JobListChunk(ObjectRef JobList, int ArraySize);
