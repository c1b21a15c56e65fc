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

    private Task<Stream> HandleAsync(Stream input)
    {
        RegisterCompletedJobs? register = null;
        return SqsBatches.HandleAsync(input, async message =>
        {
            foreach (var manifest in ManifestsOf(message))
            {
                register ??= new RegisterCompletedJobs(await _env.DataSourceAsync(), _env.Store, _env.Keys);
                var report = await register.RegisterManifestAsync(manifest);
                if (report.Failures.Count > 0)
                    throw new InvalidDataException($"{manifest}: {report.Failures[0].Message}");
            }
        });
    }

    private static IEnumerable<ObjectRef> ManifestsOf(SqsMessage message) => S3EventMessages.ObjectsIn(message).Where(IsManifest);
}
