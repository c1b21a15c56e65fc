using Rapid.Core.Storage;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// RegisterStream λ: an SQS batch of S3 "object created" notifications → registers each product
/// manifest (<c>manifest_jid*.json</c>) as soon as it is written. A message that fails (unreadable
/// body, missing or bad manifest, database error) is reported alone in the partial batch response,
/// so SQS retries only it and, after its retries, moves it to the dead-letter queue; other keys are ignored.
/// </summary>
public sealed class RegisterStreamHandler
{
    private readonly LambdaEnvironment _env;

    public RegisterStreamHandler() : this(Environment.GetEnvironmentVariable) { }

    internal RegisterStreamHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(HandleAsync(input));

    /// <summary>Product manifests, by file name (see Rapid.Core.Storage.ObjectKeys.Manifest).</summary>
    public static bool IsManifest(ObjectRef obj) =>
        obj.FileName.StartsWith("manifest_jid", StringComparison.Ordinal) && obj.FileName.EndsWith(".json", StringComparison.Ordinal);

    private async Task<Stream> HandleAsync(Stream input)
    {
        var batch = LambdaStreams.Read(input, LambdaJsonContext.Default.SqsEvent, "SQS event");
        var failures = new List<SqsBatchItemFailure>();
        RegisterCompletedJobs? register = null;
        foreach (var message in batch.Records)
        {
            try
            {
                foreach (var manifest in ManifestsOf(message))
                {
                    register ??= new RegisterCompletedJobs(await _env.DataSourceAsync(), _env.Store, _env.Keys);
                    var report = await register.RegisterManifestAsync(manifest);
                    if (report.Failures.Count > 0)
                        throw new InvalidDataException($"{manifest}: {report.Failures[0].Message}");
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Console.Error.WriteLine($"message {message.MessageId}: {e.Message}");
                failures.Add(new SqsBatchItemFailure(message.MessageId));
            }
        }
        return LambdaStreams.Write(new SqsBatchResponse(failures), LambdaJsonContext.Default.SqsBatchResponse);
    }

    private static IEnumerable<ObjectRef> ManifestsOf(SqsMessage message) => S3EventMessages.ObjectsIn(message).Where(IsManifest);
}
