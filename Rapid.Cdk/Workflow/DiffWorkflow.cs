using Amazon.CDK;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;
using Rapid.Cdk.Configuration;
using Rapid.Cdk.Resources;

namespace Rapid.Cdk.Workflow;

/// <summary>
/// The Step Functions standard workflow "{stack}-diff": one execution per job API <c>diff</c> (started by SubmitJob, named
/// <c>job{id}-diff</c>, after it checked the user's objects and wrote the job config and one-entry job list:
/// Rapid.Functions.Api.DiffOnAws), whose single state runs that list as one Batch job of the science job definition
/// (<c>batch:submitJob.sync</c>, RAPID_JOB_LIST from the input's <c>jobList</c>; no array, no plan or register λ): the
/// pipeline image's science job on the user's files, as <c>rapid diff</c> runs it. The job writes its products, manifest and
/// log; the job API reads the diff from that manifest. A Batch job that fails fails the execution, which CloseExecution
/// (EventBridge) turns into a failed submission with the error; no run lease is taken (a diff touches no survey record).
/// </summary>
public sealed class DiffWorkflow : Construct
{
    /// <summary>The state machine's name: the stack's name qualifies it.</summary>
    public static string StateMachineName(Stack stack) => $"{stack.StackName}-diff";

    public StateMachine StateMachine { get; }

    public DiffWorkflow(Construct scope, string id, RapidSettings settings, OperationsFunctions functions, BatchCompute batch) : base(scope, id)
    {
        // The science stage's queue, job definition and timeout; its plan and register λs are not used here.
        var science = WorkflowParts.Stage(settings, functions, batch, "Diff", "diff", 15, functions.PlanScience, batch.ScienceJob);
        var run = science.Submit(this, "RunDiff", "$.jobList", arraySizePath: null, "$.procDate", "$.run");
        StateMachine = WorkflowParts.StateMachine(this, StateMachineName(Stack.Of(this)), run,
            "Rapid: a user's own science/reference pair (the job API's diff) as one Batch job of the science job definition",
            ExecutionTimeoutHours(settings.Batch), settings, [science]);
    }

    /// <summary>The Batch job at its longest (the stage timeout) and an hour for its queueing.</summary>
    public static int ExecutionTimeoutHours(BatchSettings batch) => batch.StageTimeoutHours + 1;
}
