namespace Rapid.Cdk.Workflow;

/// <summary>
/// The data contract between the state machine and the Lambda handlers, in one place.
/// <list type="bullet">
/// <item>Execution input: <c>{startDateTime?, endDateTime?, procDate?, force?, tag?, maxAttempts?, retryExitCodes?, retryBackoff?,
/// superiorReferences?, superiorMinFrames?, superiorMinCoverageGain?, referenceMjd?, submission?}</c> (all optional;
/// Rapid.Functions.Lambda.ExecutionInput; <c>submission</c> = <c>{type, inputs}</c>, one job run alone, kept at <c>$.night.submission</c>).</item>
/// <item>ResolveWindow gets <c>{input, executionId}</c> (<see cref="ResolveWindowPayload"/>: the execution input and the execution's
/// ARN from the context object, recorded as <c>runs.execution</c>) and returns the resolved night
/// <c>{startDateTime, endDateTime, procDate, force, scheduled, lease, runId, tag?, retry, references?}</c>, kept at <c>$.night</c>.</item>
/// <item>Each Plan step gets <c>$.night</c> and returns a Rapid.Core.Contracts.PlanResult
/// (<c>{ppid, procDate, jobList?, arraySize, closedAtPlanning}</c>), kept at <c>$.{stage}.plan</c>.
/// Above the stage's array limit (AWS Batch's 10,000 unless <c>rapid:maxArraySize</c> is lower) the
/// plan must also return <c>chunks</c>: <c>[{jobList, arraySize}]</c>, one job list per chunk, each of
/// 2..limit jobs.</item>
/// <item>Each Register step gets <c>{night, plan, run}</c> and returns a small count object, kept at
/// <c>$.{stage}.registered</c>; <c>run</c> is <c>{failed: false}</c>, <c>{failed: true, error}</c>,
/// <c>{skipped: true}</c> or <c>{chunks: [...]}</c>.</item>
/// <item>After each registration the stage's retry loop: PlanRetry gets <c>{night, plan, previous}</c> (<c>previous</c>: the last
/// round's number, 0 before the first) and returns the next round <c>{plan, round, waitSeconds}</c>, kept at <c>$.{stage}.retry</c>;
/// a round with jobs is run (<c>$.{stage}.retryRun</c>) and registered (<c>$.{stage}.retryRegistered</c>, the last round's counts).</item>
/// <item>Any state after ResolveWindow that fails is caught: ReleaseNight gets <c>{night, failure: {Error, Cause}}</c>, then the
/// execution fails with the caught error and cause.</item>
/// <item>Summarize gets <c>{night, references, science, postProcessing, nightRecovery}</c>; its result is published to SNS as JSON.</item>
/// </list>
/// </summary>
public static class WorkflowPaths
{
    public const string Night = "$.night";

    /// <summary>ResolveWindow's payload: the execution input as given, and the execution's id (Rapid.Functions.Lambda.ResolveWindowRequest).</summary>
    public static Amazon.CDK.AWS.StepFunctions.TaskInput ResolveWindowPayload => Amazon.CDK.AWS.StepFunctions.TaskInput.FromObject(
        new Dictionary<string, object> { ["input.$"] = "$", ["executionId.$"] = "$$.Execution.Id" });
    public const string ProcDate = "$.night.procDate";
    public const string Summary = "$.summary";
    /// <summary>Where the failure path keeps the caught error: <c>{Error, Cause}</c>.</summary>
    public const string Failure = "$.failure";

    public static string Stage(string stage) => $"$.{stage}";
    public static string Plan(string stage) => $"$.{stage}.plan";
    public static string ArraySize(string stage) => $"$.{stage}.plan.arraySize";
    public static string Chunks(string stage) => $"$.{stage}.plan.chunks";
    public static string Run(string stage) => $"$.{stage}.run";
    public static string Registered(string stage) => $"$.{stage}.registered";
    /// <summary>The stage's last resubmission round: <c>{round}</c> before the first, then PlanRetry's <c>{plan, round, waitSeconds}</c>.</summary>
    public static string Retry(string stage) => $"$.{stage}.retry";
    public static string RetryRound(string stage) => $"$.{stage}.retry.round";
    public static string RetryPlan(string stage) => $"$.{stage}.retry.plan";
    public static string RetryWait(string stage) => $"$.{stage}.retry.waitSeconds";
    public static string RetryRun(string stage) => $"$.{stage}.retryRun";
    public static string RetryRegistered(string stage) => $"$.{stage}.retryRegistered";
}
