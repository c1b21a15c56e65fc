using System.Text.Json.Nodes;
using Rapid.Cli.AwsStandIns;
using Rapid.Cli.Engine;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;

namespace Rapid.Cli.Tests.AwsStandIns;

/// <summary>What batch:submitJob.sync would say to a state's SubmitJob parameters, answered by the local executor.</summary>
public sealed class LocalBatchSubmissionTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("rapid-batch-submit-");
    private readonly DirectoryObjectStore _store;
    private readonly ObjectRef _jobList = new(Buckets.Default.Pipeline, "20280910/joblist_ppid15.json");

    public LocalBatchSubmissionTests() => _store = new DirectoryObjectStore(_root.FullName);

    private LocalBatchSubmission Submission() =>
        new(new LocalBatchExecutor(PipelineEntryPoint.BesideCli(), _store, Buckets.Default, _root.FullName) { Parallelism = 2 });

    private JsonObject Parameters(int? arraySize, bool withJobList = true)
    {
        var parameters = new JsonObject
        {
            ["JobName"] = "rapid-ppid15-20280910",
            ["JobQueue"] = "arn:aws:batch:us-west-2:123456789012:job-queue/Queue",
            ["JobDefinition"] = "arn:aws:batch:us-west-2:123456789012:job-definition/ScienceJob:1",
            ["ContainerOverrides"] = new JsonObject
            {
                ["Environment"] = withJobList
                    ? new JsonArray(new JsonObject { ["Name"] = "RAPID_JOB_LIST", ["Value"] = _jobList.ToString() })
                    : new JsonArray(),
            },
        };
        if (arraySize is { } size) parameters["ArrayProperties"] = new JsonObject { ["Size"] = size };
        return parameters;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10_001)]
    public async Task An_array_size_Batch_refuses_is_a_client_error(int size)
    {
        var e = await Assert.ThrowsAsync<BatchTaskFailure>(() => Submission().RunAsync(Parameters(size)));
        Assert.Equal(BatchTaskFailure.ClientException, e.Error);
        Assert.Contains($"Size {size}", e.Message);
    }

    [Fact]
    public async Task A_submission_without_a_job_list_is_a_client_error()
    {
        var e = await Assert.ThrowsAsync<BatchTaskFailure>(() => Submission().RunAsync(Parameters(2, withJobList: false)));
        Assert.Equal(BatchTaskFailure.ClientException, e.Error);
        Assert.Contains("RAPID_JOB_LIST", e.Message);
    }

    [Fact]
    public async Task A_failed_child_fails_the_array_job_with_its_description_as_the_cause()
    {
        // Two children whose configs do not exist: each writes a manifest with exit 67 and exits 67.
        await Contract.WriteAsync(_store, _jobList, new JobList
        {
            Ppid = 15, ProcDate = "20280910",
            Jobs = [Entry(1), Entry(2)],
        });

        var e = await Assert.ThrowsAsync<BatchTaskFailure>(() => Submission().RunAsync(Parameters(2)));

        Assert.Equal(BatchTaskFailure.TaskFailed, e.Error);
        var job = JsonNode.Parse(e.Message)!;
        Assert.Equal("FAILED", job["Status"]!.GetValue<string>());
        Assert.Equal("rapid-ppid15-20280910", job["JobName"]!.GetValue<string>());
        Assert.Equal((2, 0), (job["ArrayProperties"]!["StatusSummary"]!["FAILED"]!.GetValue<int>(), job["ArrayProperties"]!["StatusSummary"]!["SUCCEEDED"]!.GetValue<int>()));
        var manifest = await Contract.ReadAsync<ProductManifest>(_store, Entry(1).Manifest);
        Assert.Equal(ExitCodes.InvalidConfig, manifest.ExitCode);

        JobListEntry Entry(long jid) => new(jid, new ObjectRef(Buckets.Default.Pipeline, $"20280910/jid{jid}/config.json"),
            new ObjectRef(Buckets.Default.Products, $"20280910/jid{jid}/manifest_jid{jid}.json"));
    }

    public void Dispose()
    {
        try { _root.Delete(recursive: true); } catch (IOException) { }
    }
}
