using Amazon.CDK;
using Amazon.CDK.AWS.Batch;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.StepFunctions;
using Amazon.CDK.AWS.StepFunctions.Tasks;
using Constructs;
using Rapid.Cdk.Configuration;
using Rapid.Cdk.Resources;
using Errors = Amazon.CDK.AWS.StepFunctions.Errors;
using Parallel = Amazon.CDK.AWS.StepFunctions.Parallel;

namespace Rapid.Cdk.Workflow;

/// <summary>What the nightly and the prompt workflows share: ResolveWindow, the Batch stages, the failure path, the state machine.</summary>
internal static class WorkflowParts
{
    /// <summary>ResolveWindow with the execution input as it is (validated there, defaults filled in) and the execution's id (runs.execution).</summary>
    public static LambdaInvoke ResolveWindow(Construct scope, OperationsFunctions functions) =>
        LambdaStep.Invoke(scope, "ResolveWindow", functions.ResolveWindow, WorkflowPaths.Night, functions.ResolveWindow.StateTimeout(),
            payload: WorkflowPaths.ResolveWindowPayload);

    /// <summary>A Batch stage of ppid <paramref name="ppid"/> with the stack's Register, PlanRetry, queue and limits.</summary>
    public static BatchStage Stage(RapidSettings settings, OperationsFunctions functions, BatchCompute batch, string name, string key, int ppid,
        IFunction plan, IJobDefinition job) => new()
    {
        Name = name,
        Key = key,
        Ppid = ppid,
        Plan = plan,
        Register = functions.Register,
        PlanRetry = functions.PlanRetry,
        Queue = batch.Queue,
        JobDefinition = job,
        BatchTimeout = Duration.Hours(settings.Batch.StageTimeoutHours),
        ChunkConcurrency = settings.Batch.ChunkConcurrency,
        MaxArraySize = settings.Batch.MaxArraySize,
    };

    /// <summary>
    /// The stages from <paramref name="first"/> in a Parallel state of one branch (<paramref name="id"/>) whose Catch is the
    /// failure path: whatever state fails, ReleaseNight releases the date's run lease and ends the run, and the execution
    /// fails (<paramref name="failedId"/>) with the original error and cause. A ReleaseNight that fails itself still ends
    /// there with the first error (the lease then expires with the execution's timeout).
    /// </summary>
    public static Parallel CaughtBranch(Construct scope, string id, string failedId, string what, string whose, IChainable first,
        OperationsFunctions functions)
    {
        var failed = new Fail(scope, failedId, new FailProps
        {
            Comment = $"{what} failed: the error and cause of the state that failed.",
            ErrorPath = WorkflowPaths.Failure + ".Error",
            CausePath = WorkflowPaths.Failure + ".Cause",
        });
        var release = LambdaStep.Invoke(scope, "ReleaseNight", functions.ReleaseNight, "$.released", functions.ReleaseNight.StateTimeout(),
            payload: TaskInput.FromObject(new Dictionary<string, object>
            {
                ["night.$"] = WorkflowPaths.Night,
                ["failure.$"] = WorkflowPaths.Failure,
            }));
        release.AddCatch(failed, new CatchProps { Errors = [Errors.ALL], ResultPath = "$.releaseFailure" });
        release.Next(failed);
        var branch = new Parallel(scope, id, new ParallelProps
        {
            Comment = $"{whose} stages, in one branch so that one Catch covers every state.",
            OutputPath = "$[0]",
        });
        branch.Branch(first);
        branch.AddCatch(release, new CatchProps { Errors = [Errors.ALL], ResultPath = WorkflowPaths.Failure });
        return branch;
    }

    /// <summary>
    /// A standard state machine named <paramref name="name"/> from <paramref name="start"/>, traced, logging every transition
    /// but never the data (inputs and outputs name objects and carry counts; the database secret never passes through the
    /// state), allowed to submit the stages' jobs and, as stopping or timing out an execution terminates its Batch jobs, to
    /// terminate jobs.
    /// </summary>
    public static StateMachine StateMachine(Construct scope, string name, IChainable start, string comment, int timeoutHours,
        RapidSettings settings, IEnumerable<BatchStage> stages)
    {
        var machine = new StateMachine(scope, "StateMachine", new StateMachineProps
        {
            StateMachineName = name,
            StateMachineType = StateMachineType.STANDARD,
            DefinitionBody = DefinitionBody.FromChainable(start),
            Comment = comment,
            Timeout = Duration.Hours(timeoutHours),
            TracingEnabled = true,
            Logs = new LogOptions
            {
                Destination = new LogGroup(scope, "ExecutionLogs", new LogGroupProps
                {
                    // Under /aws/vendedlogs/ CloudWatch needs no per-group resource policy (whose size is limited).
                    LogGroupName = $"/aws/vendedlogs/states/{name}",
                    Retention = BatchCompute.RetentionFor(settings.Storage.LogRetentionDays),
                    RemovalPolicy = RemovalPolicy.DESTROY,
                }),
                Level = LogLevel.ALL,
                IncludeExecutionData = false,
            },
        });
        foreach (var stage in stages)
            stage.GrantSubmit(machine);
        machine.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["batch:TerminateJob"],
            Resources = [Stack.Of(scope).FormatArn(new ArnComponents { Service = "batch", Resource = "job", ResourceName = "*" })],
        }));
        return machine;
    }
}
