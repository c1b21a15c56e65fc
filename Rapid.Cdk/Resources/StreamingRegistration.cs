using Amazon.CDK;
using Amazon.CDK.AWS.Lambda.EventSources;
using Amazon.CDK.AWS.S3;
using Amazon.CDK.AWS.S3.Notifications;
using Amazon.CDK.AWS.SQS;
using Constructs;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Resources;

/// <summary>
/// Registers products as their manifests arrive: S3 "object created" for manifest keys in the
/// products bucket → SQS (dead-letter queue after 5 receives) → the RegisterStream Lambda, which
/// reports partial batch failures so one bad manifest does not re-deliver its neighbours.
/// Registration is idempotent, and the state machine's Register step reconciles anything the
/// stream missed. Concurrency is capped to spare the database.
/// </summary>
public sealed class StreamingRegistration : Construct
{
    public Queue Queue { get; }
    public Queue DeadLetterQueue { get; }

    public StreamingRegistration(Construct scope, string id, RapidSettings settings, Storage storage, OperationsFunctions functions)
        : base(scope, id)
    {
        (Queue, DeadLetterQueue) = LambdaQueue.Create(this, "Manifests", "DeadLetters", functions.RegisterStream);

        var filter = new NotificationKeyFilter { Suffix = settings.Storage.ManifestSuffix };
        if (settings.Storage.ManifestPrefix.Length > 0)
            filter = new NotificationKeyFilter { Prefix = settings.Storage.ManifestPrefix, Suffix = settings.Storage.ManifestSuffix };
        storage.Products.AddEventNotification(EventType.OBJECT_CREATED, new SqsDestination(Queue), filter);

        functions.RegisterStream.AddEventSource(new SqsEventSource(Queue, new SqsEventSourceProps
        {
            BatchSize = 10,
            MaxBatchingWindow = Duration.Seconds(20),
            ReportBatchItemFailures = true,
            MaxConcurrency = settings.Functions.StreamConcurrency,
        }));
    }
}
