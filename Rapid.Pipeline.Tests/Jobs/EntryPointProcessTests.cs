using System.Diagnostics;
using Rapid.Core.Batch;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Tests.Support;

namespace Rapid.Pipeline.Tests.Jobs;

/// <summary>Runs the built entry point (Rapid.Pipeline.dll) as a child process, as the local executor and Batch do.</summary>
public class EntryPointProcessTests
{
    private static readonly string EntryPoint = Path.Combine(AppContext.BaseDirectory, "Rapid.Pipeline.dll");

    private static (int ExitCode, string Output) Run(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [EntryPoint, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        // Only what the test passes: nothing inherited from whoever runs the tests.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("RAPID_", StringComparison.Ordinal) || k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result + errors.Result);
    }

    [Fact]
    public void Prints_its_version()
    {
        var (exit, output) = Run(new Dictionary<string, string>(), "--version");

        Assert.Equal(0, exit);
        Assert.Equal(SoftwareVersionOfEntryPoint(), output.Trim());
    }

    [Fact]
    public void Without_a_job_list_exits_67_naming_the_variable()
    {
        var (exit, output) = Run(new Dictionary<string, string>());

        Assert.Equal(ExitCodes.InvalidConfig, exit);
        Assert.Contains("RAPID_JOB_LIST is not set", output);
    }

    [Fact]
    public async Task Runs_the_array_child_named_by_the_environment_and_exits_with_the_manifest_code()
    {
        using var bed = new JobTestBed();
        var local = Path.Combine(bed.Scratch, "image.fits");
        FitsFile.WriteImage(local, new FitsImage(8, 8, new float[64]));
        var source = bed.Keys.Product(bed.ProcDate, 1, "image.fits");
        await bed.Store.PutFileAsync(source, local);
        JobConfig Config(long jid) => new()
        {
            Jid = jid, ProcDate = bed.ProcDate.ToString(),
            Spec = new PostProcessingSpec
            {
                SourceJid = 1, SourcePpid = PipelineIds.Science,
                Products = [new ProductToStamp { Role = ProductRoles.DifferenceImage, Source = source, Target = bed.Keys.Product(bed.ProcDate, 1, $"stamped{jid}.fits"), Keywords = new Dictionary<string, string> { ["PID"] = jid.ToString() } }],
            },
        };
        // Two array children; the second one is run.
        await Contract.WriteAsync(bed.Store, bed.Keys.JobConfig(bed.ProcDate, 11), Config(11));
        await Contract.WriteAsync(bed.Store, bed.Keys.JobConfig(bed.ProcDate, 12), Config(12));
        var listRef = bed.Keys.JobList(bed.ProcDate, PipelineIds.PostProcessing, "process");
        await Contract.WriteAsync(bed.Store, listRef, new JobList
        {
            Ppid = PipelineIds.PostProcessing, ProcDate = bed.ProcDate.ToString(),
            Jobs =
            [
                new JobListEntry(11, bed.Keys.JobConfig(bed.ProcDate, 11), bed.Keys.Manifest(bed.ProcDate, 11)),
                new JobListEntry(12, bed.Keys.JobConfig(bed.ProcDate, 12), bed.Keys.Manifest(bed.ProcDate, 12)),
            ],
        });
        var environment = new BatchEnvironment(listRef, 1, "batch-123", 2, bed.Keys.Buckets, bed.Store.Root).AsEnvironment().ToDictionary();

        var (exit, output) = Run(environment);

        Assert.True(exit == ExitCodes.Success, output);
        Assert.False(await bed.Store.ExistsAsync(bed.Keys.Manifest(bed.ProcDate, 11)));
        var manifest = await Contract.ReadAsync<ProductManifest>(bed.Store, bed.Keys.Manifest(bed.ProcDate, 12));
        Assert.Equal(0, manifest.ExitCode);
        Assert.Equal("batch-123", manifest.Batch.JobId);
        Assert.Equal(2, manifest.Batch.Attempt);
        Assert.Equal(12, FitsFile.ReadPrimaryHeader(bed.PathOf(bed.Keys.Product(bed.ProcDate, 1, "stamped12.fits"))).GetLong("PID"));
        Assert.Contains("terminating exit code 0", output);
    }

    private static string SoftwareVersionOfEntryPoint() => Rapid.Pipeline.Jobs.SoftwareVersion.Current;
}
