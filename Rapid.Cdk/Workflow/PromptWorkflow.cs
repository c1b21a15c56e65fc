using Amazon.CDK;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;
using Rapid.Cdk.Configuration;
using Rapid.Cdk.Resources;

namespace Rapid.Cdk.Workflow;

/// <summary>
/// The Step Functions standard workflow "{stack}-prompt", one execution per landed L2 file (started by the Ingest λ, named
/// <c>rid{rid}-v{version}</c>, its input a science submission of that rid) and per job API submission of one image, one
/// tile's reference or one date's post-processing: the nightly workflow's own steps restricted to the submitted job
/// (ResolveWindow takes the window from it, e.g. the image's DATE-OBS second; the plan steps plan only what it names), as
/// <c>rapid watch</c> and <c>rapid serve</c> run them: ResolveWindow → Prompt [(PlanReferences → references on Batch →
/// RegisterReferences → retry loop: a reference is made only where none exists and enough earlier images do) → (… the
/// science job, a single Batch job for one image …) → (… post-processing of that image …) → Summarize without the night
/// report]. The science plan takes the image out of <c>l2pending</c>, so the nightly run does not process it again, and
/// a second execution for the same image plans nothing. Failure path as the nightly one (ReleaseNight → PromptFailed).
/// Prompt executions take their processing date's run lease like a night does, so one image's execution runs at a
/// time per date: ResolveWindow retries while another holds it (<see cref="LeaseWait"/>).
/// </summary>
public sealed class PromptWorkflow : Construct
{
    /// <summary>The state machine's name: the stack's name qualifies it.</summary>
    public static string StateMachineName(Stack stack) => $"{stack.StackName}-prompt";

    /// <summary>The Batch stages of an image: references, science, post-processing.</summary>
    public const int BatchStages = 3;

    /// <summary>The error ResolveWindow raises while another execution holds the date (Rapid.Functions.OpsDatabase.RunInProgressException).</summary>
    public const string LeaseHeldError = "RunInProgressException";

    /// <summary>How ResolveWindow waits for the date's lease: every 20 s at first, then longer, about 2 hours in all.</summary>
    public static readonly (int IntervalSeconds, double BackoffRate, int MaxAttempts, int MaxDelaySeconds) LeaseWait = (20, 1.5, 40, 300);

    public StateMachine StateMachine { get; }

    public PromptWorkflow(Construct scope, string id, RapidSettings settings, OperationsFunctions functions, BatchCompute batch) : base(scope, id)
    {
        var summarize = LambdaStep.Invoke(this, "Summarize", functions.Summarize, WorkflowPaths.Summary, functions.Summarize.StateTimeout(),
            payload: TaskInput.FromObject(new Dictionary<string, object>
            {
                ["night.$"] = WorkflowPaths.Night,
                ["references.$"] = WorkflowPaths.Stage("references"),
                ["science.$"] = WorkflowPaths.Stage("science"),
                ["postProcessing.$"] = WorkflowPaths.Stage("postProcessing"),
                // The night's report is the nightly run's: one image's execution does not rewrite it.
                ["report"] = false,
            }));
        var postProcessingStage = Stage("PostProc", "postProcessing", 17, functions.PlanPostProc, batch.PostProcessingJob);
        var scienceStage = Stage("Science", "science", 15, functions.PlanScience, batch.ScienceJob);
        var referencesStage = Stage("References", "references", 12, functions.PlanReferences, batch.ReferenceJob);
        BatchStage[] stages = [referencesStage, scienceStage, postProcessingStage];
        var postProcessing = postProcessingStage.Build(this, summarize);
        var science = scienceStage.Build(this, postProcessing);
        var references = referencesStage.Build(this, science);

        var prompt = WorkflowParts.CaughtBranch(this, "Prompt", "PromptFailed", "The image's processing", "The image's", references, functions);

        var resolve = WorkflowParts.ResolveWindow(this, functions);
        resolve.AddRetry(new RetryProps
        {
            Errors = [LeaseHeldError],
            Interval = Duration.Seconds(LeaseWait.IntervalSeconds),
            BackoffRate = LeaseWait.BackoffRate,
            MaxAttempts = LeaseWait.MaxAttempts,
            MaxDelay = Duration.Seconds(LeaseWait.MaxDelaySeconds),
            JitterStrategy = JitterType.FULL,
        });
        resolve.Next(prompt);

        // Within the run lease's hours (RAPID_RUN_LEASE_HOURS, the nightly execution's timeout): a prompt execution's lease
        // too can only expire under an execution that has ended.
        StateMachine = WorkflowParts.StateMachine(this, StateMachineName(Stack.Of(this)), resolve,
            "Rapid: one landed image's prompt processing (reference if needed, science, post-processing)",
            ExecutionTimeoutHours(settings.Batch), settings, stages);

        if (settings.Prompt.Enabled)
        {
            // The Ingest λ starts executions of this machine and of no other (states:StartExecution on its ARN only).
            functions.Ingest.AddEnvironment(IngestPromptVariable, StateMachine.StateMachineArn);
            StateMachine.GrantStartExecution(functions.Ingest);
        }

        BatchStage Stage(string stageName, string key, int ppid, Amazon.CDK.AWS.Lambda.IFunction plan, Amazon.CDK.AWS.Batch.IJobDefinition job) =>
            WorkflowParts.Stage(settings, functions, batch, stageName, key, ppid, plan, job);
    }

    /// <summary>Rapid.Functions.Lambda.IngestHandler.PromptStateMachineVariable.</summary>
    public const string IngestPromptVariable = "RAPID_PROMPT_STATE_MACHINE_ARN";

    /// <summary>Every Batch stage of an image at its longest plus two hours for the Lambda steps and the wait for the lease.</summary>
    public static int ExecutionTimeoutHours(BatchSettings batch) => BatchStages * batch.StageTimeoutHours + 2;
}
