using Amazon.CDK;
using Amazon.CDK.AWS.SNS;
using Amazon.CDK.AWS.StepFunctions;
using Amazon.CDK.AWS.StepFunctions.Tasks;
using Constructs;
using Rapid.Cdk.Configuration;
using Rapid.Cdk.Resources;
using Timeout = Amazon.CDK.AWS.StepFunctions.Timeout;

namespace Rapid.Cdk.Workflow;

/// <summary>
/// The Step Functions standard workflow "{stack}-nightly":
/// ResolveWindow → Night [(PlanReferences → RunReferences → RegisterReferences → retry loop) → (… science …)
/// → (… post-processing …) → (… night recovery …) → Summarize → SNS]. Night is a Parallel state of one branch whose
/// Catch is the failure path: whatever state of the night fails (a Lambda error, a Choice on a missing path, a
/// timeout), ReleaseNight releases the date's run lease and ends the run, and the execution fails with the
/// original error and cause (NightFailed). ResolveWindow is outside it: when it fails there is no lease to release.
/// See <see cref="WorkflowPaths"/> for the data contract.
/// </summary>
public sealed class NightlyWorkflow : Construct
{
    /// <summary>The state machine's name: the stack's name qualifies it, so two stacks can share an account and region.</summary>
    public static string StateMachineName(Stack stack) => $"{stack.StackName}-nightly";

    public StateMachine StateMachine { get; }

    /// <summary>The Batch stages of a night: references, science, post-processing, night recovery.</summary>
    public const int BatchStages = 4;

    /// <summary>
    /// The state machine's timeout in hours, and so the longest an execution holds its run lease: every Batch stage at its
    /// longest (the stage timeout; a stage's resubmission rounds share the execution's budget) plus two hours for the
    /// Lambda steps.
    /// </summary>
    public static int ExecutionTimeoutHours(BatchSettings batch) => BatchStages * batch.StageTimeoutHours + 2;

    public NightlyWorkflow(Construct scope, string id, RapidSettings settings, OperationsFunctions functions,
        BatchCompute batch, ITopic notifications) : base(scope, id)
    {
        var notify = new SnsPublish(this, "NotifyNight", new SnsPublishProps
        {
            Topic = notifications,
            Subject = JsonPath.Format("Rapid night {} processed", JsonPath.StringAt(WorkflowPaths.ProcDate)),
            Message = TaskInput.FromJsonPathAt(WorkflowPaths.Summary),
            ResultPath = JsonPath.DISCARD,
            TaskTimeout = Timeout.Duration(Duration.Minutes(1)),
        });
        var summarize = LambdaStep.Invoke(this, "Summarize", functions.Summarize,
            WorkflowPaths.Summary, functions.Summarize.StateTimeout(),
            payload: TaskInput.FromObject(new Dictionary<string, object>
            {
                ["night.$"] = WorkflowPaths.Night,
                ["references.$"] = WorkflowPaths.Stage("references"),
                ["science.$"] = WorkflowPaths.Stage("science"),
                ["postProcessing.$"] = WorkflowPaths.Stage("postProcessing"),
                ["nightRecovery.$"] = WorkflowPaths.Stage("nightRecovery"),
            }));
        summarize.Next(notify);

        // The night's injection-recovery job (ppid 18) reads the stamped products: a stage of its own after
        // post-processing, run by the post-processing job definition (same image, same resources).
        var nightRecoveryStage = Stage("NightRecovery", "nightRecovery", 18, functions.PlanNightRecovery, batch.PostProcessingJob);
        var postProcessingStage = Stage("PostProc", "postProcessing", 17, functions.PlanPostProc, batch.PostProcessingJob);
        var scienceStage = Stage("Science", "science", 15, functions.PlanScience, batch.ScienceJob);
        var referencesStage = Stage("References", "references", 12, functions.PlanReferences, batch.ReferenceJob);
        BatchStage[] stages = [referencesStage, scienceStage, postProcessingStage, nightRecoveryStage];
        var nightRecovery = nightRecoveryStage.Build(this, summarize);
        var postProcessing = postProcessingStage.Build(this, nightRecovery);
        var science = scienceStage.Build(this, postProcessing);
        var references = referencesStage.Build(this, science);

        var night = WorkflowParts.CaughtBranch(this, "Night", "NightFailed", "The night", "The night's", references, functions);
        var resolve = WorkflowParts.ResolveWindow(this, functions);
        resolve.Next(night);

        // Every Batch stage at its longest, plus the Lambda steps; the run lease lasts as long (RAPID_RUN_LEASE_HOURS).
        StateMachine = WorkflowParts.StateMachine(this, StateMachineName(Stack.Of(this)), resolve,
            "Rapid: one night of RAPID difference imaging (references, science, post-processing, night recovery)",
            ExecutionTimeoutHours(settings.Batch), settings, stages);

        BatchStage Stage(string name, string key, int ppid, Amazon.CDK.AWS.Lambda.IFunction plan, Amazon.CDK.AWS.Batch.IJobDefinition job) =>
            WorkflowParts.Stage(settings, functions, batch, name, key, ppid, plan, job);
    }
}
