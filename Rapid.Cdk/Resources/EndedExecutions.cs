using Amazon.CDK;
using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.Events.Targets;
using Amazon.CDK.AWS.Lambda.EventSources;
using Amazon.CDK.AWS.SQS;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;

namespace Rapid.Cdk.Resources;

/// <summary>
/// What an execution that ended without its own end leaves open is closed: an EventBridge rule for the "Step Functions
/// Execution Status Change" events of the stack's state machines whose status is FAILED, TIMED_OUT or ABORTED → an SQS
/// queue (dead-letter queue after 5 receives) → the CloseExecution Lambda, which registers or closes the execution's open
/// jobs with the reason, ends its run and releases its processing date's run lease (a timed-out or stopped execution runs
/// no Catch, so nothing else does until the lease expires), and fails the job API's submissions it was running. Closing is
/// idempotent (a failed execution's own failure path may have done part of it), so at-least-once delivery is enough.
/// </summary>
public sealed class EndedExecutions : Construct
{
    /// <summary>Rapid.Functions.Lambda.EndedExecutionStatuses.All.</summary>
    public static readonly string[] Statuses = ["FAILED", "TIMED_OUT", "ABORTED"];

    public Queue Queue { get; }
    public Queue DeadLetterQueue { get; }

    public EndedExecutions(Construct scope, string id, OperationsFunctions functions, params IStateMachine[] machines) : base(scope, id)
    {
        (Queue, DeadLetterQueue) = LambdaQueue.Create(this, "Ended", "DeadLetters", functions.CloseExecution);

        new Rule(this, "ExecutionsEnded", new RuleProps
        {
            Description = "Executions of the Rapid state machines that failed, timed out or were stopped: their runs, leases and jobs are closed",
            EventPattern = new EventPattern
            {
                Source = ["aws.states"],
                DetailType = ["Step Functions Execution Status Change"],
                Detail = new Dictionary<string, object>
                {
                    ["status"] = Statuses,
                    ["stateMachineArn"] = machines.Select(m => m.StateMachineArn).ToArray(),
                },
            },
            // As for Batch's events: only this rule may send to the queue, and undeliverable events go to the dead letters.
            Targets = [new SqsQueue(Queue, new SqsQueueProps { DeadLetterQueue = DeadLetterQueue, RetryAttempts = 10, MaxEventAge = Duration.Hours(24) })],
        });

        functions.CloseExecution.AddEventSource(new SqsEventSource(Queue, new SqsEventSourceProps
        {
            BatchSize = 1,
            ReportBatchItemFailures = true,
            // Executions end a few at a time; each closing may register a stage's open jobs.
            MaxConcurrency = 2,
        }));
    }
}
