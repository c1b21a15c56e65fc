using System.Text.Json.Nodes;
using Rapid.Cli.Engine;
using Rapid.Core.Batch;
using Rapid.Core.Storage;

namespace Rapid.Cli.AwsStandIns;

/// <summary>A failed submission or job, as Step Functions reports it: the state's Error and Cause.</summary>
public sealed class BatchTaskFailure(string error, string cause) : Exception(cause)
{
    /// <summary>What <c>batch:submitJob.sync</c> raises for a job that ended FAILED.</summary>
    public const string TaskFailed = "States.TaskFailed";
    /// <summary>What Batch answers to a SubmitJob request it refuses (Step Functions prefixes the service).</summary>
    public const string ClientException = "Batch.ClientException";

    public string Error { get; } = error;
}

/// <summary>
/// The local stand-in for Step Functions' <c>arn:aws:states:::batch:submitJob.sync</c>: takes the
/// state's SubmitJob parameters, refuses what Batch would refuse (an array of size 1 or above
/// 10,000, a missing job list), runs the job on the <see cref="LocalBatchExecutor"/> and returns
/// the job's description as <c>.sync</c> does once the job has ended. A job that ends FAILED (any
/// child with a non-zero exit code fails an array job) throws <see cref="BatchTaskFailure"/>
/// with the description as its cause, so the definition's Catch sees what it would see in AWS.
/// </summary>
public sealed class LocalBatchSubmission(LocalBatchExecutor executor)
{
    public const int MaxArraySize = 10_000;

    public async Task<JsonObject> RunAsync(JsonObject parameters, CancellationToken ct = default)
    {
        var jobName = Required(parameters, "JobName");
        var queue = Required(parameters, "JobQueue");
        var definition = Required(parameters, "JobDefinition");
        int? arraySize = null;
        if (parameters["ArrayProperties"]?["Size"] is { } sizeNode)
        {
            arraySize = sizeNode.GetValueKind() == System.Text.Json.JsonValueKind.Number ? sizeNode.GetValue<int>()
                : throw new BatchTaskFailure(BatchTaskFailure.ClientException, $"ArrayProperties.Size {sizeNode.ToJsonString()} is not a number");
            if (arraySize is < 2 or > MaxArraySize)
                throw new BatchTaskFailure(BatchTaskFailure.ClientException,
                    $"ArrayProperties.Size {arraySize} is outside 2..{MaxArraySize} (submit a single job without ArrayProperties)");
        }
        var overrides = new Dictionary<string, string>();
        foreach (var variable in parameters["ContainerOverrides"]?["Environment"]?.AsArray() ?? [])
            overrides[variable!["Name"]!.GetValue<string>()] = variable["Value"]?.GetValue<string>() ?? "";
        if (!overrides.TryGetValue(BatchEnvironment.JobListVariable, out var listUri) || !ObjectRef.TryParse(listUri, out var jobList))
            throw new BatchTaskFailure(BatchTaskFailure.ClientException,
                $"ContainerOverrides.Environment has no {BatchEnvironment.JobListVariable} of the form s3://bucket/key: a Rapid job cannot run without it");

        var jobId = Guid.NewGuid().ToString();
        var created = DateTimeOffset.UtcNow;
        var outcomes = await executor.RunJobAsync(jobList!, arraySize, jobId, overrides, ct: ct);
        var failed = outcomes.Where(o => o.ExitCode != 0).ToList();
        var description = Describe(jobName, jobId, queue, definition, arraySize, overrides, outcomes, failed, created);
        if (failed.Count > 0)
            throw new BatchTaskFailure(BatchTaskFailure.TaskFailed, description.ToJsonString(StandInJson.Options));
        return description;
    }

    private static string Required(JsonObject parameters, string name) =>
        parameters[name] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } s
            ? s
            : throw new BatchTaskFailure(BatchTaskFailure.ClientException, $"SubmitJob parameter {name} is missing");

    /// <summary>The fields of Batch's DescribeJobs answer that a reader of the execution history looks at.</summary>
    private static JsonObject Describe(string jobName, string jobId, string queue, string definition, int? arraySize,
        IReadOnlyDictionary<string, string> overrides, IReadOnlyList<ChildOutcome> outcomes, IReadOnlyList<ChildOutcome> failed,
        DateTimeOffset created)
    {
        var environment = new JsonArray(overrides.Select(kv => (JsonNode)new JsonObject { ["Name"] = kv.Key, ["Value"] = kv.Value }).ToArray());
        var job = new JsonObject
        {
            ["JobArn"] = $"arn:aws:batch:local:000000000000:job/{jobId}",
            ["JobId"] = jobId,
            ["JobName"] = jobName,
            ["JobQueue"] = queue,
            ["JobDefinition"] = definition,
            ["Status"] = failed.Count > 0 ? "FAILED" : "SUCCEEDED",
            ["CreatedAt"] = created.ToUnixTimeMilliseconds(),
            ["StoppedAt"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["Container"] = new JsonObject { ["Environment"] = environment },
        };
        if (arraySize is { } size)
        {
            job["ArrayProperties"] = new JsonObject
            {
                ["Size"] = size,
                ["StatusSummary"] = new JsonObject { ["SUCCEEDED"] = outcomes.Count - failed.Count, ["FAILED"] = failed.Count },
            };
            if (failed.Count > 0) job["StatusReason"] = "Array Child Job failed";
        }
        else
        {
            var only = outcomes.Single();
            job["Container"]!["ExitCode"] = only.ExitCode;
            if (only.Reason is not null) job["Container"]!["Reason"] = only.Reason;
            if (failed.Count > 0) job["StatusReason"] = "Essential container in task exited";
        }
        return job;
    }
}
