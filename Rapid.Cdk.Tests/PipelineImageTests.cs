using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Amazon.S3.Model;
using Rapid.Cdk.Tests.Support;
using Rapid.Core.Batch;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;
using Rapid.Core.Tests.Support;
using Rapid.Pipeline.Fits;

namespace Rapid.Cdk.Tests;

/// <summary>
/// No Docker engine runs here, so the image itself is never built: instead the Dockerfile's own
/// publish step runs with the build arguments the image asset passes (<see cref="PublishedPipelineImage"/>),
/// and its ENTRYPOINT is started as Batch starts the container: with exactly the environment of the
/// synthesized job definition and what Batch itself sets, against a local S3 (s3rver) reached through
/// the SDK's endpoint override with dummy credentials, and no instance metadata service.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class PipelineImageTests : IClassFixture<PublishedPipelineImage>, IClassFixture<S3rverFixture>
{
    private readonly DefaultStack _stack;
    private readonly PublishedPipelineImage _image;
    private readonly S3rverFixture _s3;

    public PipelineImageTests(DefaultStack stack, PublishedPipelineImage image, S3rverFixture s3)
    {
        _stack = stack;
        _image = image;
        _s3 = s3;
        _image.Publish(BuildArguments(stack));
    }

    /// <summary>The image asset's build arguments, as cdk deploy passes them to docker build.</summary>
    private static Dictionary<string, string> BuildArguments(SynthesizedStack stack) =>
        Assert.Single(stack.Assets["dockerImages"]!.AsObject()).Value!["source"]!["dockerBuildArgs"]?.AsObject()
            .ToDictionary(a => a.Key, a => a.Value!.GetValue<string>()) ?? [];

    [Theory]
    [InlineData("Reference")]
    [InlineData("Science")]
    [InlineData("PostProcessing")]
    public void Job_definition_sets_exactly_the_buckets_and_the_region(string name)
    {
        var names = JobDefinitionEnvironment(name).Keys.Order().ToArray();

        Assert.Equal(Buckets.Default.AsEnvironment().Select(kv => kv.Key).Concat(["AWS_DEFAULT_REGION", "AWS_REGION"]).Order(), names);
        // Embedded mode only: set in AWS it would send every object to the container's disk instead of S3.
        Assert.DoesNotContain(BatchEnvironment.StoreRootVariable, names);
    }

    [Fact]
    public void Publish_follows_the_dockerfiles_release_build_for_linux_x64()
    {
        var arguments = string.Join(' ', _image.PublishArguments);

        Assert.StartsWith("publish Rapid.Pipeline/Rapid.Pipeline.csproj ", arguments);
        Assert.Contains("--configuration Release", arguments);
        Assert.Contains("--runtime linux-x64", arguments);
        Assert.Contains("--self-contained false", arguments);
        Assert.Equal("Rapid.Pipeline", Path.GetFileName(_image.EntryPoint));
    }

    /// <summary>
    /// The image starts its libraries precompiled (ReadyToRun: less JIT at the start of every job) except the pipeline's
    /// own assembly, whose hot loops the JIT compiles better (tiering is off, so precompiled code would be final).
    /// </summary>
    [Fact]
    public void The_image_precompiles_every_assembly_but_the_pipelines_own()
    {
        static bool Precompiled(string path)
        {
            using var reader = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(path));
            return reader.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0;
        }

        Assert.False(Precompiled(Path.Combine(_image.OutputDirectory, "Rapid.Pipeline.dll")));
        Assert.True(Precompiled(Path.Combine(_image.OutputDirectory, "Rapid.Core.dll")));
        Assert.True(Precompiled(Path.Combine(_image.OutputDirectory, "AWSSDK.S3.dll")));
    }

    /// <summary>
    /// Defect 12 of issue 9: the build context has no .git, so the image knew no commit. The asset
    /// passes it as a build argument; <c>Rapid.Pipeline --version</c> (and with it every manifest
    /// and product header) reports it.
    /// </summary>
    [Fact]
    public void The_image_reports_the_commit_it_was_built_from()
    {
        Assert.Equal(_stack.Stack.Revision.Value, BuildArguments(_stack)[Rapid.Cdk.Configuration.SourceRevision.BuildArgument]);
        var (exit, output) = RunEntryPoint(BaseEnvironment(), "--version");
        Assert.Equal(0, exit);
        Assert.EndsWith("+" + _stack.Stack.Revision.Value, output.Trim());
    }

    /// <summary>
    /// Defect 2 of issue 9: with only the bucket names, the container's S3 client had no region. Run
    /// with exactly the job definition's variables (and Batch's), the job reaches S3 and writes its
    /// products, log and manifest.
    /// </summary>
    [Fact]
    public async Task Published_entry_point_runs_a_post_processing_job_with_exactly_the_job_definitions_environment()
    {
        var environment = BaseEnvironment();
        foreach (var (key, value) in JobDefinitionEnvironment("PostProcessing")) environment[key] = value;
        var buckets = Buckets.FromEnvironment(environment.GetValueOrDefault);
        foreach (var bucket in new[] { buckets.Data, buckets.Pipeline, buckets.Products, buckets.Logs }.Distinct())
            await _s3.Client.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        var store = new S3ObjectStore(_s3.Client);
        var keys = new ObjectKeys(buckets);
        var procDate = ProcessingDate.Parse("20280908");
        using var work = new TemporaryDirectory();

        var local = work.Combine("diffimage.fits");
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

        // What the state machine sets, and what Batch adds for an array child.
        environment[BatchEnvironment.JobListVariable] = listRef.ToString();
        environment[BatchEnvironment.ArrayIndexVariable] = "0";
        environment[BatchEnvironment.JobIdVariable] = "image-test-job:0";
        environment[BatchEnvironment.AttemptVariable] = "1";

        var (exit, output) = RunEntryPoint(environment);

        Assert.True(exit == ExitCodes.Success, $"{_image.EntryPoint} exited {exit}:\n{output}");
        Assert.True(await store.ExistsAsync(manifestRef), $"no manifest {manifestRef}:\n{output}");
        var manifest = await Contract.ReadAsync<ProductManifest>(store, manifestRef);
        Assert.Equal(ExitCodes.Success, manifest.ExitCode);
        Assert.Equal("image-test-job:0", manifest.Batch.JobId);
        Assert.EndsWith("+" + _stack.Stack.Revision.Value, manifest.Software.Version);
        // The commit itself, when the revision names one (a work tree with uncommitted changes builds "<sha>-dirty": the
        // version keeps the mark, the commit is the sha).
        var revision = _stack.Stack.Revision.Value;
        var commit = revision.EndsWith(SoftwareInfo.DirtySuffix, StringComparison.Ordinal) ? revision[..^SoftwareInfo.DirtySuffix.Length] : revision;
        Assert.Equal(commit.All(char.IsAsciiHexDigit) ? commit : null, manifest.Software.GitCommit);
        Assert.Equal(target, Assert.Single(Assert.IsType<PostProcessingOutcome>(manifest.Outcome).Stamped).File);
        var stamped = work.Combine("stamped.fits");
        await store.GetFileAsync(target, stamped);
        Assert.Equal(1234, FitsFile.ReadPrimaryHeader(stamped).GetLong("PID"));
        // The log went to the logs bucket the job definition names.
        Assert.True(await store.ExistsAsync(keys.Log(procDate, jid)), $"no log {keys.Log(procDate, jid)}");
    }

    /// <summary>
    /// The container's variables before the job definition's: what the image sets to run dotnet
    /// (PATH, DOTNET_ROOT, HOME), the local S3 through the SDK's endpoint override with dummy
    /// credentials, and no instance metadata service (none is here to ask; on AWS the job definition's
    /// AWS_REGION makes it unnecessary).
    /// </summary>
    private Dictionary<string, string> BaseEnvironment()
    {
        var environment = new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL_S3"] = _s3.Endpoint.ToString().TrimEnd('/'),
            ["AWS_ACCESS_KEY_ID"] = "S3RVER",
            ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["HOME"] = Path.GetTempPath(),
        };
        foreach (var name in new[] { "PATH", "DOTNET_ROOT" })
            if (Environment.GetEnvironmentVariable(name) is { } value) environment[name] = value;
        return environment;
    }

    /// <summary>The job definition's variables, references resolved as CloudFormation would: a bucket to its local name (its logical id, lower-cased), the region to the stack's.</summary>
    private Dictionary<string, string> JobDefinitionEnvironment(string name)
    {
        var (_, job) = _stack.Resources("AWS::Batch::JobDefinition").Single(j => j.Id.Contains(name + "Job", StringComparison.Ordinal));
        return job["Properties"]!["ContainerProperties"]!["Environment"]!.AsArray().ToDictionary(
            e => e!["Name"]!.GetValue<string>(),
            e => e!["Value"] switch
            {
                JsonValue value => value.GetValue<string>(),
                JsonObject reference when reference["Ref"]?.GetValue<string>() == "AWS::Region" => SynthesizedStack.Region,
                JsonObject reference when reference["Ref"] is { } id => id.GetValue<string>().ToLowerInvariant(),
                var other => throw new InvalidDataException($"job definition {name}: {other?.ToJsonString()} has no local value"),
            });
    }

    /// <summary>Starts the published apphost as the image's ENTRYPOINT does, with exactly <paramref name="environment"/>.</summary>
    private (int Exit, string Output) RunEntryPoint(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(_image.EntryPoint, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        // Nothing inherited from whoever runs the tests: the container sees only what the image, the job definition and Batch set.
        start.Environment.Clear();
        foreach (var (key, value) in environment) start.Environment[key] = value;
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"the published entry point {_image.EntryPoint} could not be started: {e.Message}", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{_image.EntryPoint} did not finish within 2 minutes");
            }
            return (process.ExitCode, output.Result + errors.Result);
        }
    }
}
