using Amazon.CDK;
using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.Events.Targets;
using Amazon.CDK.AWS.Lambda.EventSources;
using Amazon.CDK.AWS.SQS;
using Constructs;

namespace Rapid.Cdk.Resources;

/// <summary>
/// How the operations record learns what Batch did with each job (jobs never touch the database): an EventBridge rule for
/// the "Batch Job State Change" events of the stack's job queue → an SQS queue (dead-letter queue after 5 receives) → the
/// RecordBatchEvents Lambda, which records each state change on the attempt that ran the job list entry and reports
/// partial batch failures, so one bad message does not re-deliver its neighbours. Recording is idempotent (a redelivered
/// event changes nothing) and never moves an attempt back, so the queue's at-least-once, unordered delivery is enough.
/// </summary>
public sealed class BatchStateEvents : Construct
{
    public Queue Queue { get; }
    public Queue DeadLetterQueue { get; }

    public BatchStateEvents(Construct scope, string id, Amazon.CDK.AWS.Batch.IJobQueue jobQueue, OperationsFunctions functions)
        : base(scope, id)
    {
        (Queue, DeadLetterQueue) = LambdaQueue.Create(this, "StateChanges", "DeadLetters", functions.RecordBatchEvents);

        new Rule(this, "JobStateChanges", new RuleProps
        {
            Description = "Every state change of the Rapid job queue's Batch jobs, for the operations record",
            EventPattern = new EventPattern
            {
                Source = ["aws.batch"],
                DetailType = ["Batch Job State Change"],
                Detail = new Dictionary<string, object> { ["jobQueue"] = new[] { jobQueue.JobQueueArn } },
            },
            // The target's queue policy lets only this rule send (aws:SourceArn); events EventBridge could not deliver
            // after its retries go to the dead-letter queue too.
            Targets = [new SqsQueue(Queue, new SqsQueueProps { DeadLetterQueue = DeadLetterQueue, RetryAttempts = 10, MaxEventAge = Duration.Hours(24) })],
        });

        functions.RecordBatchEvents.AddEventSource(new SqsEventSource(Queue, new SqsEventSourceProps
        {
            BatchSize = 10,
            MaxBatchingWindow = Duration.Seconds(10),
            ReportBatchItemFailures = true,
            // An array job's children change state by the thousand: cap the database connections they cost.
            MaxConcurrency = 5,
        }));
    }
}
