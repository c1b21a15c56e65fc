using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rapid.Cli.AwsStandIns;
using Rapid.Cli.Engine;
using Rapid.Core.Batch;
using Rapid.Core.Storage;

namespace Rapid.Cli.Commands;

/// <summary>
/// The hidden command through which tools/local-state-machine runs the Batch tasks of the deployed
/// state machine on this machine: <c>rapid batch submit</c>, SubmitJob parameters on stdin, the
/// ended job's description on stdout. (Its Lambda tasks run from the functions' published bundle:
/// tools/lambda-runtime.) The exit code tells the caller what to raise: 0 = result,
/// <see cref="TaskFailed"/> = stdout holds <c>{"Error", "Cause"}</c> for the state (a failed job),
/// anything else = the stand-in itself failed.
/// </summary>
internal static class AwsStandInCommands
{
    public const int TaskFailed = 1;
    private const int StandInFailed = 2;

    public static IEnumerable<Command> Create() => [Batch()];

    private static Command Batch()
    {
        var parallel = CommonOptions.Parallel();
        var timeout = new Option<int>("--attempt-timeout")
        {
            Description = "Seconds after which a child is killed (the job definition's attempt duration)",
            DefaultValueFactory = _ => 7200,
        };
        var containerEnvironment = new Option<FileInfo?>("--container-environment")
        {
            Description = "A JSON object: exactly the environment of the job's container (the job definition's, resolved, and the local S3's endpoint and credentials); without it, children get this process's environment scrubbed of secrets",
        };
        var killFirstChild = new Option<bool>("--kill-first-child")
        {
            Description = "A fault to inject: the job's first child is killed (SIGKILL) as soon as it starts, as a lost host would lose it",
        };
        var submit = new Command("submit", "Run a batch:submitJob.sync request on the local executor: SubmitJob parameters on stdin, the ended job's description on stdout")
        {
            parallel, timeout, containerEnvironment, killFirstChild,
        };
        submit.SetAction(async (parse, ct) =>
        {
            IReadOnlyDictionary<string, string>? container = null;
            if (parse.GetValue(containerEnvironment) is { } file)
            {
                try
                {
                    container = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(file.FullName, ct))
                        ?? throw new JsonException("null");
                }
                catch (Exception e) when (e is JsonException or IOException)
                {
                    return StandInFailed.Because($"--container-environment {file.FullName}: not a JSON object of strings: {e.Message}");
                }
            }
            // The object store as the job's container sees it: a directory in embedded mode, else S3.
            var root = Environment.GetEnvironmentVariable(BatchEnvironment.StoreRootVariable) is { Length: > 0 } r ? r : null;
            IObjectStore store;
            try
            {
                store = root is not null ? new DirectoryObjectStore(root) : new S3ObjectStore();
            }
            catch (InvalidOperationException e)
            {
                return StandInFailed.Because(e.Message);
            }
            JsonObject parameters;
            try
            {
                parameters = JsonNode.Parse(await Console.In.ReadToEndAsync(ct))?.AsObject()
                    ?? throw new JsonException("the SubmitJob parameters are null");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                return StandInFailed.Because($"stdin is not a JSON object of SubmitJob parameters: {e.Message}");
            }
            var executor = new LocalBatchExecutor(PipelineEntryPoint.BesideCli(), store, Buckets.FromEnvironment(), root)
            {
                Parallelism = parse.GetValue(parallel),
                Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                ContainerEnvironment = container,
            };
            if (parse.GetValue(killFirstChild))
            {
                var started = 0;
                executor.ChildStarted += (_, processId) =>
                {
                    if (Interlocked.Increment(ref started) != 1) return;
                    try { System.Diagnostics.Process.GetProcessById(processId).Kill(); }
                    catch (ArgumentException) { } // already gone
                };
            }
            try
            {
                Console.Out.Write((await new LocalBatchSubmission(executor).RunAsync(parameters, ct)).ToJsonString(StandInJson.Options));
                return 0;
            }
            catch (BatchTaskFailure failure)
            {
                Console.Out.Write(new JsonObject { ["Error"] = failure.Error, ["Cause"] = failure.Message }.ToJsonString(StandInJson.Options));
                return TaskFailed;
            }
        });
        return new Command("batch", "Local stand-in for AWS Batch (used by the local run of the state machine)") { Hidden = true, Subcommands = { submit } };
    }

    private static int Because(this int exitCode, string message)
    {
        Console.Error.WriteLine($"rapid: {message}");
        return exitCode;
    }
}
