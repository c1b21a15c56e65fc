namespace Rapid.Functions.Record;

/// <summary>
/// The states a job attempt moves through, as stored in <c>jobstates.state</c> and <c>jobattempts.state</c> (the
/// schema's <c>job_state_rank</c> orders them; an attempt's current state never moves back). One name per state, here.
/// </summary>
public static class JobStates
{
    /// <summary>A plan (or a resubmission) made the attempt: its config and job list entry exist.</summary>
    public const string Planned = "planned";
    /// <summary>Handed to Batch (or the local executor).</summary>
    public const string Submitted = "submitted";
    /// <summary>Batch: waiting for compute (PENDING, RUNNABLE).</summary>
    public const string Runnable = "runnable";
    /// <summary>Batch: its container is being started; locally: its process is being started.</summary>
    public const string Starting = "starting";
    public const string Running = "running";
    /// <summary>Its products were uploaded (the end of its upload step).</summary>
    public const string Uploaded = "uploaded";
    /// <summary>Its process ended with exit 0 (Batch SUCCEEDED; a job's warnings exit 0 too).</summary>
    public const string Succeeded = "succeeded";
    /// <summary>Its process ended with another exit code, was killed or did not start (Batch FAILED).</summary>
    public const string Failed = "failed";
    /// <summary>Registration closed the job from its manifest.</summary>
    public const string Registered = "registered";
    /// <summary>Registration closed the job without a manifest of this run (exit 70).</summary>
    public const string Lost = "lost";
    /// <summary>Registration refused its manifest (exit 71).</summary>
    public const string Rejected = "rejected";
    /// <summary>Post-processing registered the stamped copies of its products.</summary>
    public const string PostProcessed = "postprocessed";
    /// <summary>The retry policy resubmitted the job: a later attempt follows.</summary>
    public const string Resubmitted = "resubmitted";

    /// <summary>Every state, in the order an attempt moves through them.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Planned, Submitted, Runnable, Starting, Running, Uploaded, Succeeded, Failed, Registered, Lost, Rejected, PostProcessed, Resubmitted];
}

/// <summary>Who recorded a state (<c>jobstates.source</c>).</summary>
public static class StateSources
{
    public const string Planner = "planner";
    public const string Executor = "executor";
    public const string Batch = "batch";
    public const string Manifest = "manifest";
    public const string Registration = "registration";
}

/// <summary>What a registered file is (<c>files.kind</c>).</summary>
public static class FileKinds
{
    public const string L2 = "l2";
    public const string Product = "product";
    public const string Log = "log";
    public const string Manifest = "manifest";
    public const string Config = "config";
    public const string JobList = "joblist";
    public const string Report = "report";
}

/// <summary>What made an attempt (<c>jobattempts.trigger</c>).</summary>
public static class AttemptTriggers
{
    /// <summary>A plan step planned the job (again).</summary>
    public const string Plan = "plan";
    /// <summary>The retry policy resubmitted the failed job within its run.</summary>
    public const string Resubmit = "resubmit";
    /// <summary>Batch retried the same submission (its own retry strategy: host failures, timeouts).</summary>
    public const string BatchRetry = "batch_retry";
    /// <summary>A manifest of a job planned before attempts were recorded.</summary>
    public const string Unplanned = "unplanned";
}
