using System.Text;
using Rapid.Core.Batch;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Pipeline.Jobs;
using Rapid.Pipeline.Tests.Support;

namespace Rapid.Pipeline.Tests.Jobs;

public class JobRunnerTests
{
    private static TileGrid Tile => new() { Field = 1, CenterRaDeg = SyntheticSurvey.RaDeg, CenterDecDeg = SyntheticSurvey.DecDeg, Naxis1 = 64, Naxis2 = 64, PixelScaleArcsec = SyntheticSurvey.PixelScaleArcsec };

    private static async Task<List<L2Image>> FramesAsync(JobTestBed bed, int count)
    {
        var survey = new SyntheticSurvey(64, starCount: 3, seed: 1);
        var inputs = new List<L2Image>();
        for (var i = 0; i < count; i++)
        {
            var path = Path.Combine(bed.Scratch, $"f{i}.fits");
            survey.WriteFrame(path, i * 0.5, 0, seed: i, mjd: 60000 + i);
            inputs.Add(new L2Image { Rid = i + 1, File = await bed.UploadL2Async(path), Md5 = FileChecksum.Of(path).Md5 });
        }
        return inputs;
    }

    private static JobConfig ReferenceJob(JobTestBed bed, IReadOnlyList<L2Image> inputs) =>
        new() { Jid = 77, ProcDate = bed.ProcDate.ToString(), Spec = new ReferenceImageSpec { Tile = Tile, Inputs = inputs } };

    [Fact]
    public async Task Missing_config_ends_with_67_and_a_manifest_naming_it()
    {
        using var bed = new JobTestBed();

        var run = await bed.RunAsync(ReferenceJob(bed, []), writeConfig: false);

        Assert.Equal(ExitCodes.InvalidConfig, run.ExitCode);
        Assert.Equal(ExitCodes.InvalidConfig, run.Manifest!.ExitCode);
        Assert.Contains("job_config_jid77.json does not exist", run.Manifest.Reason);
        Assert.Empty(run.Manifest.Products);
    }

    [Fact]
    public async Task Unparseable_config_ends_with_67()
    {
        using var bed = new JobTestBed();
        await bed.Store.PutBytesAsync(bed.Keys.JobConfig(bed.ProcDate, 77), Encoding.UTF8.GetBytes("{not json"));

        var run = await bed.RunAsync(ReferenceJob(bed, []), writeConfig: false);

        Assert.Equal(ExitCodes.InvalidConfig, run.ExitCode);
        Assert.Contains("not a valid JobConfig", run.Manifest!.Reason);
    }

    [Fact]
    public async Task Fewer_than_the_minimum_reference_inputs_ends_with_33_and_no_products()
    {
        using var bed = new JobTestBed();
        var inputs = await FramesAsync(bed, 2);

        var run = await bed.RunAsync(ReferenceJob(bed, inputs));

        Assert.Equal(ExitCodes.NoReferenceImage, run.ExitCode);
        Assert.Contains("2 input image(s), at least 3 needed", run.Manifest!.Reason);
        Assert.Empty(run.Manifest.Products);
        var stored = await bed.Store.ListAsync(bed.Keys.Buckets.Products, ObjectKeys.JobPrefix(bed.ProcDate, 77)).ToListAsync();
        Assert.Equal([run.ManifestRef], stored);
    }

    [Fact]
    public async Task Corrupt_input_ends_with_65_naming_the_file()
    {
        using var bed = new JobTestBed();
        var inputs = await FramesAsync(bed, 3);
        await File.WriteAllTextAsync(bed.PathOf(inputs[1].File), "SIMPLE  =  this is not FITS");

        var run = await bed.RunAsync(ReferenceJob(bed, inputs.Select(i => i with { Md5 = null }).ToList()));

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains(inputs[1].File.ToString(), run.Manifest!.Reason);
        Assert.Empty(run.Manifest.Products);
    }

    [Fact]
    public async Task Md5_mismatch_ends_with_65_naming_the_file()
    {
        using var bed = new JobTestBed();
        var inputs = await FramesAsync(bed, 3);
        inputs[2] = inputs[2] with { Md5 = new string('0', 32) };

        var run = await bed.RunAsync(ReferenceJob(bed, inputs));

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains($"{inputs[2].File}: MD5", run.Manifest!.Reason);
    }

    [Fact]
    public async Task Missing_input_object_ends_with_65()
    {
        using var bed = new JobTestBed();
        var inputs = await FramesAsync(bed, 3);
        inputs[0] = inputs[0] with { File = bed.Keys.L2File("sim/absent.fits") };

        var run = await bed.RunAsync(ReferenceJob(bed, inputs));

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains("absent.fits does not exist", run.Manifest!.Reason);
    }

    [Fact]
    public async Task Unexpected_exception_ends_with_64_and_the_log_still_uploaded()
    {
        using var bed = new JobTestBed();
        var config = ReferenceJob(bed, []);
        await Contract.WriteAsync(bed.Store, bed.Keys.JobConfig(bed.ProcDate, 77), config);
        var listRef = bed.Keys.JobList(bed.ProcDate, 12, "boom");
        await Contract.WriteAsync(bed.Store, listRef, new JobList
        {
            Ppid = 12, ProcDate = bed.ProcDate.ToString(),
            Jobs = [new JobListEntry(77, bed.Keys.JobConfig(bed.ProcDate, 77), bed.Keys.Manifest(bed.ProcDate, 77))],
        });
        var env = new Dictionary<string, string> { [BatchEnvironment.JobListVariable] = listRef.ToString(), [BatchEnvironment.StoreRootVariable] = bed.Store.Root };

        var exit = await new JobRunner(env.GetValueOrDefault, TextWriter.Null, TextWriter.Null) { Pipelines = _ => new ThrowingJob() }.RunAsync();

        Assert.Equal(ExitCodes.Error, exit);
        var manifest = await Contract.ReadAsync<ProductManifest>(bed.Store, bed.Keys.Manifest(bed.ProcDate, 77));
        Assert.Equal("InvalidOperationException: boom", manifest.Reason);
        var log = Encoding.UTF8.GetString(await bed.Store.GetBytesAsync(bed.Keys.Log(bed.ProcDate, 77)));
        Assert.Contains("terminating exit code 64", log);
    }

    [Fact]
    public async Task Log_upload_failure_ends_with_66_in_the_manifest()
    {
        using var bed = new JobTestBed();
        var config = ReferenceJob(bed, []);
        await Contract.WriteAsync(bed.Store, bed.Keys.JobConfig(bed.ProcDate, 77), config);
        var listRef = bed.Keys.JobList(bed.ProcDate, 12, "nolog");
        await Contract.WriteAsync(bed.Store, listRef, new JobList
        {
            Ppid = 12, ProcDate = bed.ProcDate.ToString(),
            Jobs = [new JobListEntry(77, bed.Keys.JobConfig(bed.ProcDate, 77), bed.Keys.Manifest(bed.ProcDate, 77))],
        });
        // A bucket name the directory store refuses makes the log upload fail.
        var env = new Dictionary<string, string>
        {
            [BatchEnvironment.JobListVariable] = listRef.ToString(), [BatchEnvironment.StoreRootVariable] = bed.Store.Root,
            [Buckets.LogsVariable] = "..",
        };

        var exit = await new JobRunner(env.GetValueOrDefault, TextWriter.Null, TextWriter.Null) { Pipelines = _ => new EmptyJob() }.RunAsync();

        Assert.Equal(ExitCodes.LogUploadFailed, exit);
        var manifest = await Contract.ReadAsync<ProductManifest>(bed.Store, bed.Keys.Manifest(bed.ProcDate, 77));
        Assert.Equal(ExitCodes.LogUploadFailed, manifest.ExitCode);
        Assert.StartsWith("log upload failed", manifest.Reason);
    }

    [Fact]
    public async Task Missing_job_list_ends_with_67_on_stderr()
    {
        using var bed = new JobTestBed();
        var env = new Dictionary<string, string> { [BatchEnvironment.JobListVariable] = "s3://rapid-pipeline-files/none.json", [BatchEnvironment.StoreRootVariable] = bed.Store.Root };
        var errors = new StringWriter();

        var exit = await new JobRunner(env.GetValueOrDefault, errors, TextWriter.Null).RunAsync();

        Assert.Equal(ExitCodes.InvalidConfig, exit);
        Assert.Contains("none.json does not exist", errors.ToString());
    }

    private sealed class EmptyJob : IPipelineJob
    {
        public Task<JobResult> RunAsync(JobContext context, CancellationToken ct) =>
            Task.FromResult(new JobResult([], new ReferenceImageOutcome { Reference = new ReferenceImageResult { Field = 1, Fid = 1 } }));
    }

    private sealed class ThrowingJob : IPipelineJob
    {
        public Task<JobResult> RunAsync(JobContext context, CancellationToken ct) => throw new InvalidOperationException("boom");
    }
}
