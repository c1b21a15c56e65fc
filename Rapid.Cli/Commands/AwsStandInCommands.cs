using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rapid.Cli.AwsStandIns;
using Rapid.Cli.Engine;
using Rapid.Core.Batch;
using Rapid.Core.Storage;

namespace Rapid.Cli.Commands;

/// <summary>
/// Hidden commands through which tools/local-state-machine runs the deployed state machine on this
/// machine: each Lambda task becomes <c>rapid lambda invoke HANDLER</c> and each Batch task
/// <c>rapid batch submit</c>, payload on stdin, result on stdout. The exit code tells the caller
/// what to raise: 0 = result, <see cref="TaskFailed"/> = stdout holds <c>{"Error", "Cause"}</c> for
/// the state (a handler exception, a failed job), anything else = the stand-in itself failed.
/// </summary>
internal static class AwsStandInCommands
{
    public const int TaskFailed = 1;
    private const int StandInFailed = 2;

    public static IEnumerable<Command> Create() => [Lambda(), Batch()];

    private static Command Lambda()
    {
        var handler = new Argument<string>("handler") { Description = "The function's Handler, Assembly::Namespace.Type::Method" };
        var invoke = new Command("invoke", "Invoke a Lambda handler in this process: payload on stdin, response on stdout, environment as the function's") { handler };
        invoke.SetAction(parse =>
        {
            LambdaHandlerInvoker invoker;
            try
            {
                invoker = new LambdaHandlerInvoker(parse.GetValue(handler)!);
            }
            catch (ArgumentException e)
            {
                return StandInFailed.Because(e.Message);
            }
            using var payload = new MemoryStream();
            Console.OpenStandardInput().CopyTo(payload);
            payload.Position = 0;
            try
            {
                using var response = invoker.Invoke(payload);
                using var stdout = Console.OpenStandardOutput();
                response.CopyTo(stdout);
                return 0;
            }
            catch (Exception e)
            {
                // As the Lambda runtime does: the error document is the invocation's result, details in the log.
                Console.Error.WriteLine(e);
                var error = LambdaHandlerInvoker.ErrorDocument(e);
                Console.Out.Write(new JsonObject
                {
                    ["Error"] = error["errorType"]!.GetValue<string>(),
                    ["Cause"] = error.ToJsonString(StandInJson.Options),
                }.ToJsonString(StandInJson.Options));
                return TaskFailed;
            }
        });
        return new Command("lambda", "Local stand-in for AWS Lambda (used by the local run of the state machine)") { Hidden = true, Subcommands = { invoke } };
    }

    private static Command Batch()
    {
        var parallel = CommonOptions.Parallel();
        var timeout = new Option<int>("--attempt-timeout")
        {
            Description = "Seconds after which a child is killed (the job definition's attempt duration)",
            DefaultValueFactory = _ => 7200,
        };
        var submit = new Command("submit", "Run a batch:submitJob.sync request on the local executor: SubmitJob parameters on stdin, the ended job's description on stdout")
        {
            parallel, timeout,
        };
        submit.SetAction(async (parse, ct) =>
        {
            // Batch jobs see the object store through the job definition's environment; locally that is a directory.
            if (Environment.GetEnvironmentVariable(BatchEnvironment.StoreRootVariable) is not { Length: > 0 } root)
                return StandInFailed.Because($"{BatchEnvironment.StoreRootVariable} is not set: the local Batch stand-in runs jobs on a directory object store");
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
            var executor = new LocalBatchExecutor(PipelineEntryPoint.BesideCli(), new DirectoryObjectStore(root), Buckets.FromEnvironment(), root)
            {
                Parallelism = parse.GetValue(parallel),
                Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
            };
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
