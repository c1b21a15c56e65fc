using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Rapid.Cdk.Tests.Support;
using Rapid.Core.Batch;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;
using Rapid.Pipeline.Fits;

namespace Rapid.Cdk.Tests;

/// <summary>
/// No Docker engine runs here, so the image itself is never built: instead the Dockerfile's own
/// publish step runs (<see cref="PublishedPipelineImage"/>) and its ENTRYPOINT is started on a tiny
/// job with the environment the synthesized job definition sets, as Batch would start the container.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class PipelineImageTests(DefaultStack stack, PublishedPipelineImage image) : IClassFixture<PublishedPipelineImage>
{
    private static readonly string[] BucketVariables = Buckets.Default.AsEnvironment().Select(kv => kv.Key).Order().ToArray();

    [Theory]
    [InlineData("Reference")]
    [InlineData("Science")]
    [InlineData("PostProcessing")]
    public void JobDefinitionSetsExactlyTheBucketVariablesTheEntryPointReads(string name)
    {
        var names = JobDefinitionEnvironment(name).Select(e => e.Name).Order().ToArray();

        Assert.Equal(BucketVariables, names);
        // Embedded mode only: set in AWS it would send every object to the container's disk instead of S3.
        Assert.DoesNotContain(BatchEnvironment.StoreRootVariable, names);
    }

    [Fact]
    public void PublishFollowsTheDockerfilesReleaseBuildForLinuxX64()
    {
        var arguments = string.Join(' ', image.PublishArguments);

        Assert.StartsWith("publish Rapid.Pipeline/Rapid.Pipeline.csproj ", arguments);
        Assert.Contains("--configuration Release", arguments);
        Assert.Contains("--runtime linux-x64", arguments);
        Assert.Contains("--self-contained false", arguments);
        Assert.Equal("Rapid.Pipeline", Path.GetFileName(image.EntryPoint));
    }

    [Fact]
    public async Task PublishedEntryPointRunsAPostProcessingJobWithTheJobDefinitionsEnvironment()
    {
        var work = Directory.CreateTempSubdirectory("rapid-pipeline-image-job-");
        try
        {
            // The job definition's bucket names are CloudFormation Refs: each becomes a local bucket of this test.
            var environment = JobDefinitionEnvironment("PostProcessing").ToDictionary(
                e => e.Name,
                e => e.Value is JsonObject reference && reference["Ref"] is not null
                    ? e.Name.ToLowerInvariant().Replace('_', '-') + "-local"
                    : e.Value!.GetValue<string>());
            var buckets = Buckets.FromEnvironment(environment.GetValueOrDefault);
            var keys = new ObjectKeys(buckets);
            var store = new DirectoryObjectStore(Path.Combine(work.FullName, "store"));
            var procDate = ProcessingDate.Parse("20280908");

            var local = Path.Combine(work.FullName, "diffimage.fits");
            FitsFile.WriteImage(local, new FitsImage(8, 8, Enumerable.Range(0, 64).Select(i => (float)i).ToArray()));
            var source = keys.Product(procDate, 501, "diffimage.fits");
            await store.PutFileAsync(source, local);
            var target = keys.Product(procDate, 501, "rapid_diff_r99_v1.fits");
            const long jid = 601;
            var configRef = keys.JobConfig(procDate, jid);
            await Contract.WriteAsync(store, configRef, new JobConfig
            {
                Jid = jid, ProcDate = procDate.ToString(),
                Spec = new PostProcessingSpec
                {
                    SourceJid = 501, SourcePpid = PipelineIds.Science,
                    Products = [new ProductToStamp { Role = ProductRoles.DifferenceImage, Source = source, Target = target, Keywords = new Dictionary<string, string> { ["PID"] = "1234" } }],
                },
            });
            var manifestRef = keys.Manifest(procDate, jid);
            var listRef = keys.JobList(procDate, PipelineIds.PostProcessing, "image-test");
            await Contract.WriteAsync(store, listRef, new JobList
            {
                Ppid = PipelineIds.PostProcessing, ProcDate = procDate.ToString(),
                Jobs = [new JobListEntry(jid, configRef, manifestRef)],
            });

            // What Batch adds to the job definition's environment for an array child, plus what the state machine sets.
            environment[BatchEnvironment.JobListVariable] = listRef.ToString();
            environment[BatchEnvironment.ArrayIndexVariable] = "0";
            environment[BatchEnvironment.JobIdVariable] = "image-test-job:0";
            environment[BatchEnvironment.AttemptVariable] = "1";
            // The only embedded-mode addition: the object store is this directory instead of S3.
            environment[BatchEnvironment.StoreRootVariable] = store.Root;

            var (exit, output) = RunEntryPoint(environment);

            Assert.True(exit == ExitCodes.Success, $"{image.EntryPoint} exited {exit}:\n{output}");
            Assert.True(await store.ExistsAsync(manifestRef), $"no manifest {manifestRef}:\n{output}");
            var manifest = await Contract.ReadAsync<ProductManifest>(store, manifestRef);
            Assert.Equal(ExitCodes.Success, manifest.ExitCode);
            Assert.Equal("image-test-job:0", manifest.Batch.JobId);
            Assert.Equal(target, Assert.Single(Assert.IsType<PostProcessingOutcome>(manifest.Outcome).Stamped).File);
            Assert.Equal(1234, FitsFile.ReadPrimaryHeader(store.PathOf(target)).GetLong("PID"));
            // The log went to the logs bucket the job definition names.
            Assert.True(await store.ExistsAsync(keys.Log(procDate, jid)), $"no log {keys.Log(procDate, jid)}");
        }
        finally
        {
            try { work.Delete(recursive: true); }
            catch (IOException) { /* a leftover temp directory is harmless */ }
        }
    }

    private IEnumerable<(string Name, JsonNode? Value)> JobDefinitionEnvironment(string name)
    {
        var (_, job) = stack.Resources("AWS::Batch::JobDefinition").Single(j => j.Id.Contains(name + "Job", StringComparison.Ordinal));
        return job["Properties"]!["ContainerProperties"]!["Environment"]!.AsArray()
            .Select(e => (e!["Name"]!.GetValue<string>(), e["Value"]));
    }

    /// <summary>Starts the published apphost as the image's ENTRYPOINT does, with exactly the given RAPID_*/AWS_* variables.</summary>
    private (int Exit, string Output) RunEntryPoint(IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(image.EntryPoint) { RedirectStandardOutput = true, RedirectStandardError = true };
        // Nothing inherited from whoever runs the tests: the container sees only what Batch and the job definition set.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("RAPID_", StringComparison.Ordinal) || k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"the published entry point {image.EntryPoint} could not be started: {e.Message}", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{image.EntryPoint} did not finish a one-file post-processing job within 2 minutes");
            }
            return (process.ExitCode, output.Result + errors.Result);
        }
    }
}
