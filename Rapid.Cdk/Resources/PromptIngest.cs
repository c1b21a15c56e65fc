using Amazon.CDK.AWS.Lambda.EventSources;
using Amazon.CDK.AWS.S3;
using Amazon.CDK.AWS.S3.Notifications;
using Amazon.CDK.AWS.SQS;
using Constructs;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Resources;

/// <summary>
/// The arrival path of prompt processing: S3 "object created" for the FITS keys of the data bucket (under
/// <see cref="PromptSettings.KeyPrefix"/>) → SQS (encrypted, TLS only; dead-letter queue after 5 receives, whose depth
/// raises an alarm) → the Ingest λ, which registers each file from its headers and starts its execution of
/// {stack}-prompt, and reports partial batch failures so one bad file does not re-deliver its neighbours. Ingest is
/// idempotent and the execution's name is the file's row and version, so SQS's at-least-once delivery starts each
/// image's processing once. No batching window: an image waits for no other.
/// </summary>
public sealed class PromptIngest : Construct
{
    public Queue Queue { get; }
    public Queue DeadLetterQueue { get; }

    public PromptIngest(Construct scope, string id, PromptSettings settings, Storage storage, OperationsFunctions functions) : base(scope, id)
    {
        (Queue, DeadLetterQueue) = LambdaQueue.Create(this, "Arrivals", "DeadLetters", functions.Ingest);
        foreach (var suffix in PromptSettings.FitsSuffixes)
        {
            var filter = settings.KeyPrefix.Length > 0
                ? new NotificationKeyFilter { Prefix = settings.KeyPrefix, Suffix = suffix }
                : new NotificationKeyFilter { Suffix = suffix };
            storage.Data.AddEventNotification(EventType.OBJECT_CREATED, new SqsDestination(Queue), filter);
        }
        functions.Ingest.AddEventSource(new SqsEventSource(Queue, new SqsEventSourceProps
        {
            BatchSize = 5,
            ReportBatchItemFailures = true,
            MaxConcurrency = settings.IngestConcurrency,
        }));
    }
}
