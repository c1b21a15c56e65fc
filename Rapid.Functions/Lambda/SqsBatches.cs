namespace Rapid.Functions.Lambda;

/// <summary>
/// What the queue consumers (RegisterStream, RecordBatchEvents, Ingest, CloseExecution) share: an SQS batch handled message
/// by message, with partial batch failures. A message whose handling throws is logged (its id and the error on one line)
/// and reported alone, so SQS retries only it and, after its retries, moves it to the dead-letter queue, whose depth raises an
/// alarm; its neighbours are not delivered again.
/// </summary>
internal static class SqsBatches
{
    public static async Task<Stream> HandleAsync(Stream input, Func<SqsMessage, Task> handle)
    {
        var batch = LambdaStreams.Read(input, LambdaJsonContext.Default.SqsEvent, "SQS event");
        var failures = new List<SqsBatchItemFailure>();
        foreach (var message in batch.Records)
        {
            try
            {
                await handle(message);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Console.Error.WriteLine($"message {message.MessageId}: {e.Message.ReplaceLineEndings(" ")}");
                failures.Add(new SqsBatchItemFailure(message.MessageId));
            }
        }
        return LambdaStreams.Write(new SqsBatchResponse(failures), LambdaJsonContext.Default.SqsBatchResponse);
    }
}
