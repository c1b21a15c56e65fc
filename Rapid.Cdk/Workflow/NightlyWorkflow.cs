using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.SNS;
using Amazon.CDK.AWS.StepFunctions;
using Amazon.CDK.AWS.StepFunctions.Tasks;
using Constructs;
using Rapid.Cdk.Configuration;
using Rapid.Cdk.Resources;
using Errors = Amazon.CDK.AWS.StepFunctions.Errors;
using Parallel = Amazon.CDK.AWS.StepFunctions.Parallel;
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
        var batchTimeout = Duration.Hours(settings.Batch.StageTimeoutHours);

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

        // The failure path. A ReleaseNight that fails itself still ends in NightFailed with the night's first error
        // (the lease then expires with the execution's timeout).
        var failed = new Fail(this, "NightFailed", new FailProps
        {
            Comment = "The night failed: the error and cause of the state that failed.",
            ErrorPath = WorkflowPaths.Failure + ".Error",
            CausePath = WorkflowPaths.Failure + ".Cause",
        });
        var release = LambdaStep.Invoke(this, "ReleaseNight", functions.ReleaseNight, "$.released", functions.ReleaseNight.StateTimeout(),
            payload: TaskInput.FromObject(new Dictionary<string, object>
            {
                ["night.$"] = WorkflowPaths.Night,
                ["failure.$"] = WorkflowPaths.Failure,
            }));
        release.AddCatch(failed, new CatchProps { Errors = [Errors.ALL], ResultPath = "$.releaseFailure" });
        release.Next(failed);
        var night = new Parallel(this, "Night", new ParallelProps
        {
            Comment = "The night's stages, in one branch so that one Catch covers every state.",
            OutputPath = "$[0]",
        });
        night.Branch(references);
        night.AddCatch(release, new CatchProps { Errors = [Errors.ALL], ResultPath = WorkflowPaths.Failure });

        // The execution input as it is (ResolveWindow validates it and fills in the defaults), and the execution's id, which
        // the night's run records (runs.execution).
        var resolve = LambdaStep.Invoke(this, "ResolveWindow", functions.ResolveWindow,
            WorkflowPaths.Night, functions.ResolveWindow.StateTimeout(), payload: WorkflowPaths.ResolveWindowPayload);
        resolve.Next(night);

        var name = StateMachineName(Stack.Of(this));
        StateMachine = new StateMachine(this, "StateMachine", new StateMachineProps
        {
            StateMachineName = name,
            StateMachineType = StateMachineType.STANDARD,
            DefinitionBody = DefinitionBody.FromChainable(resolve),
            Comment = "Rapid: one night of RAPID difference imaging (references, science, post-processing, night recovery)",
            // Every Batch stage at its longest, plus the Lambda steps; the run lease lasts as long (RAPID_RUN_LEASE_HOURS).
            Timeout = Duration.Hours(ExecutionTimeoutHours(settings.Batch)),
            TracingEnabled = true,
            Logs = new LogOptions
            {
                Destination = new LogGroup(this, "ExecutionLogs", new LogGroupProps
                {
                    // Under /aws/vendedlogs/ CloudWatch needs no per-group resource policy (whose size is limited).
                    LogGroupName = $"/aws/vendedlogs/states/{name}",
                    Retention = BatchCompute.RetentionFor(settings.Storage.LogRetentionDays),
                    RemovalPolicy = RemovalPolicy.DESTROY,
                }),
                // Every state transition (a few dozen a night), but never the data: inputs and outputs
                // name objects and carry counts, and the database secret never passes through the state.
                Level = LogLevel.ALL,
                IncludeExecutionData = false,
            },
        });

        foreach (var stage in stages)
            stage.GrantSubmit(StateMachine);
        // Stopping or timing out an execution terminates its Batch jobs: allow that, for jobs only.
        StateMachine.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["batch:TerminateJob"],
            Resources = [Stack.Of(this).FormatArn(new ArnComponents { Service = "batch", Resource = "job", ResourceName = "*" })],
        }));

        BatchStage Stage(string name, string key, int ppid, Amazon.CDK.AWS.Lambda.IFunction plan, Amazon.CDK.AWS.Batch.IJobDefinition job) => new()
        {
            Name = name,
            Key = key,
            Ppid = ppid,
            Plan = plan,
            Register = functions.Register,
            PlanRetry = functions.PlanRetry,
            Queue = batch.Queue,
            JobDefinition = job,
            BatchTimeout = batchTimeout,
            ChunkConcurrency = settings.Batch.ChunkConcurrency,
            MaxArraySize = settings.Batch.MaxArraySize,
        };
    }
}
