using Amazon.CDK;
using Amazon.CDK.AWS.Batch;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.StepFunctions;
using Amazon.CDK.AWS.StepFunctions.Tasks;
using Constructs;
using SfnMap = Amazon.CDK.AWS.StepFunctions.Map;
using Errors = Amazon.CDK.AWS.StepFunctions.Errors;

namespace Rapid.Cdk.Workflow;

/// <summary>
/// One stage of the night: Plan λ → Choice on the planned array size → Batch (.sync: none, a
/// single job, an array job, or a Map over chunks above <see cref="MaxArraySize"/>) → Register λ, then the
/// stage's retry loop: PlanRetry λ → Choice (any jobs to resubmit?) → Wait (the round's back-off) → Batch (a single
/// or an array job of the round's job list) → Register λ → PlanRetry again, until PlanRetry plans an empty round (the
/// night's resubmission policy bounds the attempts of every job). Every Batch state catches every error and still
/// goes to Register, because registration is what records a failed or lost job; Batch's own retry strategy has
/// already retried host failures.
/// </summary>
public sealed class BatchStage
{
    public required string Name { get; init; }
    /// <summary>Where the stage keeps its results: <c>$.{Key}.plan</c>, <c>.run</c>, <c>.registered</c>.</summary>
    public required string Key { get; init; }
    public required int Ppid { get; init; }
    public required IFunction Plan { get; init; }
    public required IFunction Register { get; init; }
    public required IFunction PlanRetry { get; init; }
    public required IJobQueue Queue { get; init; }
    public required IJobDefinition JobDefinition { get; init; }
    public required Duration BatchTimeout { get; init; }
    public required int ChunkConcurrency { get; init; }
    /// <summary>The most jobs of one array job; the plan step chunks at the same size (RAPID_MAX_ARRAY_SIZE).</summary>
    public required int MaxArraySize { get; init; }

    /// <summary>Builds the stage's states; the stage ends by going to <paramref name="next"/>.</summary>
    public IChainable Build(Construct scope, IChainable next)
    {
        var register = RegisterStep(scope, $"Register{Name}", WorkflowPaths.Plan(Key), WorkflowPaths.Run(Key), WorkflowPaths.Registered(Key));
        register.Next(BuildRetry(scope, next));

        var (single, array, failed) = SingleOrArray(scope, "Run", Name, WorkflowPaths.Plan(Key), WorkflowPaths.Run(Key), register);
        var skipped = new Pass(scope, $"{Name}Skipped", new PassProps
        {
            Comment = "Nothing planned: no Batch job and nothing to register.",
            Result = Result.FromObject(new Dictionary<string, object> { ["skipped"] = true }),
            ResultPath = WorkflowPaths.Run(Key),
        });
        skipped.Next(next);

        var chunks = new SfnMap(scope, $"Run{Name}Chunks", new MapProps
        {
            ItemsPath = WorkflowPaths.Chunks(Key),
            ItemSelector = new Dictionary<string, object>
            {
                ["jobList.$"] = "$$.Map.Item.Value.jobList",
                ["arraySize.$"] = "$$.Map.Item.Value.arraySize",
                ["procDate.$"] = WorkflowPaths.ProcDate,
            },
            MaxConcurrency = ChunkConcurrency,
            ResultSelector = new Dictionary<string, object> { ["chunks.$"] = "$" },
            ResultPath = WorkflowPaths.Run(Key),
        });
        var chunk = Submit(scope, $"Run{Name}Chunk", "$.jobList", "$.arraySize", "$.procDate", "$.job");
        // A failed chunk must not stop the others (stopping a .sync state terminates its Batch jobs).
        var chunkFailed = new Pass(scope, $"{Name}ChunkFailed", new PassProps
        {
            Parameters = new Dictionary<string, object> { ["failed"] = true, ["error.$"] = "$.error.Error" },
        });
        chunk.AddCatch(chunkFailed, new CatchProps { Errors = [Errors.ALL], ResultPath = "$.error" });
        var chunkSucceeded = new Pass(scope, $"{Name}ChunkRan", new PassProps
        {
            Result = Result.FromObject(new Dictionary<string, object> { ["failed"] = false }),
        });
        chunks.ItemProcessor(chunk.Next(chunkSucceeded));
        chunks.AddCatch(failed, new CatchProps { Errors = [Errors.ALL], ResultPath = WorkflowPaths.Run(Key) });
        chunks.Next(register);

        var choose = new Choice(scope, $"Choose{Name}Run", new ChoiceProps { Comment = $"ppid {Ppid}: how many jobs were planned?" })
            .When(Condition.NumberEquals(WorkflowPaths.ArraySize(Key), 0), skipped)
            .When(Condition.NumberEquals(WorkflowPaths.ArraySize(Key), 1), single)
            .When(Condition.NumberLessThanEquals(WorkflowPaths.ArraySize(Key), MaxArraySize), array)
            .Otherwise(chunks);

        var plan = LambdaStep.Invoke(scope, $"Plan{Name}", Plan, WorkflowPaths.Plan(Key), Plan.StateTimeout(),
            inputPath: WorkflowPaths.Night);
        plan.Next(choose);
        return plan;
    }

    /// <summary>
    /// A single job (<c>{verb}{Name}Single</c>) and an array job (<c>{verb}{Name}Array</c>) of the job list of the plan at
    /// <paramref name="planPath"/>, each going on to <c>{outcome}Ran</c> or, whatever error it raises, to <c>{outcome}Failed</c>;
    /// both of those record the outcome at <paramref name="runPath"/> and go on to <paramref name="register"/>.
    /// </summary>
    private (CustomState Single, CustomState Array, Pass Failed) SingleOrArray(Construct scope, string verb, string outcome, string planPath,
        string runPath, IChainable register)
    {
        var ran = new Pass(scope, $"{outcome}Ran", new PassProps
        {
            Result = Result.FromObject(new Dictionary<string, object> { ["failed"] = false }),
            ResultPath = runPath,
        });
        ran.Next(register);
        var failed = new Pass(scope, $"{outcome}Failed", new PassProps
        {
            // Keep the error name and drop the Cause: for a Batch job it is the whole job description.
            Parameters = new Dictionary<string, object> { ["failed"] = true, ["error.$"] = runPath + ".Error" },
            ResultPath = runPath,
        });
        failed.Next(register);
        var single = Submit(scope, $"{verb}{Name}Single", planPath + ".jobList", arraySizePath: null, WorkflowPaths.ProcDate, runPath);
        var array = Submit(scope, $"{verb}{Name}Array", planPath + ".jobList", planPath + ".arraySize", WorkflowPaths.ProcDate, runPath);
        foreach (var run in new[] { single, array })
        {
            run.AddCatch(failed, new CatchProps { Errors = [Errors.ALL], ResultPath = runPath });
            run.Next(ran);
        }
        return (single, array, failed);
    }

    private LambdaInvoke RegisterStep(Construct scope, string id, string planPath, string runPath, string resultPath) =>
        LambdaStep.Invoke(scope, id, Register, resultPath, Register.StateTimeout(),
            payload: TaskInput.FromObject(new Dictionary<string, object>
            {
                ["night.$"] = WorkflowPaths.Night,
                ["plan.$"] = planPath,
                ["run.$"] = runPath,
            }));

    /// <summary>
    /// The stage's retry loop (entered after its registration, left for <paramref name="next"/>): the round number starts
    /// at 0, PlanRetry plans round n + 1 from the stage's plan (the jobs of its job list that the night's policy resubmits,
    /// each given a new attempt), and a round with jobs waits its back-off, runs on Batch and is registered.
    /// </summary>
    private IChainable BuildRetry(Construct scope, IChainable next)
    {
        var start = new Pass(scope, $"{Name}RetryStart", new PassProps
        {
            Comment = "No resubmission round yet.",
            Result = Result.FromObject(new Dictionary<string, object> { ["round"] = 0 }),
            ResultPath = WorkflowPaths.Retry(Key),
        });
        var plan = LambdaStep.Invoke(scope, $"PlanRetry{Name}", PlanRetry, WorkflowPaths.Retry(Key), PlanRetry.StateTimeout(),
            payload: TaskInput.FromObject(new Dictionary<string, object>
            {
                ["night.$"] = WorkflowPaths.Night,
                ["plan.$"] = WorkflowPaths.Plan(Key),
                ["previous.$"] = WorkflowPaths.RetryRound(Key),
            }));
        start.Next(plan);

        var register = RegisterStep(scope, $"Register{Name}Retry", WorkflowPaths.RetryPlan(Key), WorkflowPaths.RetryRun(Key),
            WorkflowPaths.RetryRegistered(Key));
        register.Next(plan);
        var (single, array, _) = SingleOrArray(scope, "Rerun", $"{Name}Retry", WorkflowPaths.RetryPlan(Key), WorkflowPaths.RetryRun(Key), register);

        // A round holds at most one array of jobs (PlanRetry stops at the array limit), so no Map is needed.
        var wait = new Wait(scope, $"Wait{Name}Retry", new WaitProps
        {
            Comment = "The round's back-off, from the night's resubmission policy.",
            Time = WaitTime.SecondsPath(WorkflowPaths.RetryWait(Key)),
        });
        wait.Next(new Choice(scope, $"Choose{Name}RetryRun")
            .When(Condition.NumberEquals(WorkflowPaths.RetryPlan(Key) + ".arraySize", 1), single)
            .Otherwise(array));
        plan.Next(new Choice(scope, $"Any{Name}Retry", new ChoiceProps { Comment = $"ppid {Ppid}: any failed jobs to resubmit?" })
            .When(Condition.NumberGreaterThan(WorkflowPaths.RetryPlan(Key) + ".arraySize", 0), wait)
            .Otherwise(next));
        return start;
    }

    /// <summary>
    /// <c>batch:submitJob.sync</c> of this stage's job definition; the children find their job
    /// list through RAPID_JOB_LIST (Rapid.Core.Batch.BatchEnvironment). Only the key and the
    /// size travel through the state, and the Batch result is replaced by the next state.
    /// Written as a CustomState because CDK's BatchSubmitJob turns its timeout into the job's
    /// attempt timeout (overriding the job definition's) instead of the state's TimeoutSeconds.
    /// The state machine's permissions for it are granted by <see cref="GrantSubmit"/>.
    /// </summary>
    internal CustomState Submit(Construct scope, string id, string jobListPath, string? arraySizePath, string procDatePath, string resultPath)
    {
        var parameters = new Dictionary<string, object>
        {
            ["JobName.$"] = $"States.Format('rapid-ppid{Ppid}-{{}}', {procDatePath})",
            ["JobQueue"] = Queue.JobQueueArn,
            ["JobDefinition"] = JobDefinition.JobDefinitionArn,
            ["ContainerOverrides"] = new Dictionary<string, object>
            {
                ["Environment"] = new object[]
                {
                    new Dictionary<string, object> { ["Name"] = "RAPID_JOB_LIST", ["Value.$"] = jobListPath },
                },
            },
        };
        if (arraySizePath is not null)
            parameters["ArrayProperties"] = new Dictionary<string, object> { ["Size.$"] = arraySizePath };

        var task = new CustomState(scope, id, new CustomStateProps
        {
            StateJson = new Dictionary<string, object>
            {
                ["Type"] = "Task",
                ["Resource"] = $"arn:{Aws.PARTITION}:states:::batch:submitJob.sync",
                ["Parameters"] = parameters,
                ["TimeoutSeconds"] = BatchTimeout.ToSeconds(),
                // The job description lands where the next Pass state overwrites it with a small
                // outcome ("ResultPath": null cannot be expressed through CustomState).
                ["ResultPath"] = resultPath,
            },
        });
        // Errors of the Batch API itself (throttling, service unavailable), not failed jobs.
        task.AddRetry(new RetryProps
        {
            Errors = ["Batch.AWSBatchException", "Batch.ServerException", "Batch.ServiceUnavailableException", "Batch.TooManyRequestsException"],
            Interval = Duration.Seconds(10),
            BackoffRate = 2,
            MaxAttempts = 5,
            JitterStrategy = JitterType.FULL,
        });
        return task;
    }

    /// <summary>
    /// What <c>batch:submitJob.sync</c> needs (Step Functions' "IAM policies for AWS Batch"): submit to
    /// this queue and definition, describe the job while waiting for it, and the managed rule Step
    /// Functions uses to learn that a job ended. Terminating jobs is granted once, for the whole machine.
    /// </summary>
    public void GrantSubmit(IGrantable stateMachine)
    {
        var stack = Stack.Of(Queue);
        stateMachine.GrantPrincipal.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["batch:SubmitJob"],
            Resources = [Queue.JobQueueArn, JobDefinition.JobDefinitionArn],
        }));
        // DescribeJobs supports no resource-level permissions: AWS requires "*".
        stateMachine.GrantPrincipal.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["batch:DescribeJobs"],
            Resources = ["*"],
        }));
        stateMachine.GrantPrincipal.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            Resources = [stack.FormatArn(new ArnComponents
            {
                Service = "events", Resource = "rule", ResourceName = "StepFunctionsGetEventsForBatchJobsRule",
            })],
        }));
    }
}
