using Rapid.Functions.Record;

namespace Rapid.Functions.Lambda;

/// <summary>
/// RecordBatchEvents λ: an SQS batch of AWS Batch job state-change events (EventBridge rule on the job queue → SQS) →
/// each event's state changes recorded on the attempts that ran those job list entries (<see cref="BatchStateChanges"/>).
/// Jobs never touch the database; this is how the record learns when an attempt was submitted, waited, started and
/// stopped, on which container instance, with which exit code. An event about a job Rapid did not plan is ignored; a
/// message that fails (not an event, the database unreachable) is reported alone in the partial batch response, so SQS
/// retries only it and then moves it to the dead-letter queue.
/// </summary>
public sealed class RecordBatchEventsHandler
{
    private readonly LambdaEnvironment _env;

    public RecordBatchEventsHandler() : this(Environment.GetEnvironmentVariable) { }

    internal RecordBatchEventsHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(HandleAsync(input));

    private Task<Stream> HandleAsync(Stream input) => SqsBatches.HandleAsync(input, async message =>
    {
        var changes = BatchJobEvents.Parse(message.Body);
        if (changes.Count > 0) await BatchStateChanges.RecordAsync(await _env.DataSourceAsync(), changes);
    });
}
