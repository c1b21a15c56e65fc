using Rapid.Core.Storage;

namespace Rapid.Core.Batch;

/// <summary>
/// The environment a pipeline job runs with. AWS Batch sets the AWS_BATCH_* variables for every
/// array child; the job definition sets the RAPID_* ones; the local executor sets the same.
/// </summary>
public sealed record BatchEnvironment(
    ObjectRef JobList, int ArrayIndex, string BatchJobId, int Attempt, Buckets Buckets, string? StoreRoot)
{
    public const string ArrayIndexVariable = "AWS_BATCH_JOB_ARRAY_INDEX";
    public const string JobIdVariable = "AWS_BATCH_JOB_ID";
    public const string AttemptVariable = "AWS_BATCH_JOB_ATTEMPT";
    /// <summary>s3://bucket/key of the job list the array was planned from.</summary>
    public const string JobListVariable = "RAPID_JOB_LIST";
    /// <summary>
    /// Set only in embedded mode, by the local executor: its process id. The job ends itself when that process is
    /// gone, so a killed <c>rapid run</c> leaves no orphan writing under the keys its re-run writes.
    /// </summary>
    public const string ParentPidVariable = "RAPID_PARENT_PID";
    /// <summary>Set only in embedded mode: the directory that holds the object store.</summary>
    public const string StoreRootVariable = "RAPID_STORE_ROOT";

    /// <summary>Reads the environment; a missing or malformed variable is named in the exception.</summary>
    public static BatchEnvironment FromEnvironment(Func<string, string?>? lookup = null)
    {
        lookup ??= Environment.GetEnvironmentVariable;
        var jobList = lookup(JobListVariable)
            ?? throw new InvalidOperationException($"environment variable {JobListVariable} is not set");
        var index = lookup(ArrayIndexVariable);
        var attempt = lookup(AttemptVariable);
        return new BatchEnvironment(
            ObjectRef.TryParse(jobList, out var list) ? list!
                : throw new InvalidOperationException($"environment variable {JobListVariable}='{jobList}' is not an object URI of the form s3://bucket/key"),
            // A single (non-array) job has no index: it runs entry 0.
            index is null ? 0 : int.TryParse(index, out var i) && i >= 0 ? i
                : throw new InvalidOperationException($"environment variable {ArrayIndexVariable}='{index}' is not an index"),
            lookup(JobIdVariable) ?? "local",
            // Batch counts attempts from 1.
            attempt is null ? 1 : int.TryParse(attempt, out var a) && a >= 1 ? a
                : throw new InvalidOperationException($"environment variable {AttemptVariable}='{attempt}' is not an attempt number (1, 2, ...)"),
            Buckets.FromEnvironment(lookup),
            lookup(StoreRootVariable));
    }

    public IEnumerable<KeyValuePair<string, string>> AsEnvironment()
    {
        yield return new(JobListVariable, JobList.ToString());
        yield return new(ArrayIndexVariable, ArrayIndex.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return new(JobIdVariable, BatchJobId);
        yield return new(AttemptVariable, Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var kv in Buckets.AsEnvironment()) yield return kv;
        if (StoreRoot is not null) yield return new(StoreRootVariable, StoreRoot);
    }
}
