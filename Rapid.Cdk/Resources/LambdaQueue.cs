using Amazon.CDK;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.SQS;
using Constructs;

namespace Rapid.Cdk.Resources;

/// <summary>
/// An SQS queue a Lambda reads, with its dead-letter queue (after 5 receives, kept 14 days): both encrypted with
/// SQS-managed keys (which S3 and EventBridge can send to without a key policy) and refusing plain HTTP; the queue's
/// visibility timeout six times the function's timeout (AWS's guidance for Lambda event sources).
/// </summary>
public static class LambdaQueue
{
    public const int MaxReceiveCount = 5;

    public static (Queue Queue, Queue DeadLetters) Create(Construct scope, string queueId, string deadLettersId, IFunction reader)
    {
        var deadLetters = new Queue(scope, deadLettersId, new QueueProps
        {
            Encryption = QueueEncryption.SQS_MANAGED,
            EnforceSSL = true,
            RetentionPeriod = Duration.Days(14),
        });
        var timeout = (reader as Function)?.Timeout ?? Duration.Minutes(15);
        var queue = new Queue(scope, queueId, new QueueProps
        {
            Encryption = QueueEncryption.SQS_MANAGED,
            EnforceSSL = true,
            VisibilityTimeout = Duration.Seconds(timeout.ToSeconds() * 6),
            RetentionPeriod = Duration.Days(4),
            DeadLetterQueue = new DeadLetterQueue { Queue = deadLetters, MaxReceiveCount = MaxReceiveCount },
        });
        return (queue, deadLetters);
    }
}
