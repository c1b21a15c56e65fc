using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Logs;
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
/// ResolveWindow → (PlanReferences → RunReferences → RegisterReferences) → (… science …)
/// → (… post-processing …) → (… night recovery …) → Summarize → SNS. See <see cref="WorkflowPaths"/>
/// for the data contract.
/// </summary>
public sealed class NightlyWorkflow : Construct
{
    /// <summary>The state machine's name: the stack's name qualifies it, so two stacks can share an account and region.</summary>
    public static string StateMachineName(Stack stack) => $"{stack.StackName}-nightly";

    public StateMachine StateMachine { get; }

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
        var stages = new[] { referencesStage, scienceStage, postProcessingStage, nightRecoveryStage };
        var nightRecovery = nightRecoveryStage.Build(this, summarize);
        var postProcessing = postProcessingStage.Build(this, nightRecovery);
        var science = scienceStage.Build(this, postProcessing);
        var references = referencesStage.Build(this, science);

        // The execution input as it is: ResolveWindow validates it and fills in the defaults.
        var resolve = LambdaStep.Invoke(this, "ResolveWindow", functions.ResolveWindow,
            WorkflowPaths.Night, functions.ResolveWindow.StateTimeout());
        resolve.Next(references);

        var name = StateMachineName(Stack.Of(this));
        StateMachine = new StateMachine(this, "StateMachine", new StateMachineProps
        {
            StateMachineName = name,
            StateMachineType = StateMachineType.STANDARD,
            DefinitionBody = DefinitionBody.FromChainable(resolve),
            Comment = "Rapid: one night of RAPID difference imaging (references, science, post-processing, night recovery)",
            // Every Batch stage at its longest, plus the Lambda steps.
            Timeout = Duration.Hours(stages.Length * settings.Batch.StageTimeoutHours + 2),
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
            Queue = batch.Queue,
            JobDefinition = job,
            BatchTimeout = batchTimeout,
            ChunkConcurrency = settings.Batch.ChunkConcurrency,
            MaxArraySize = settings.Batch.MaxArraySize,
        };
    }
}
