using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Tests.Support;

namespace Rapid.Pipeline.Tests.Jobs;

public class PostProcessingJobTests
{
    [Fact]
    public async Task Stamps_keywords_into_the_target_and_records_the_new_checksum()
    {
        using var bed = new JobTestBed();
        var local = Path.Combine(bed.Scratch, "diffimage.fits");
        var pixels = Enumerable.Range(0, 32 * 32).Select(i => (float)i).ToArray();
        FitsFile.WriteImage(local, new FitsImage(32, 32, pixels));
        var source = bed.Keys.Product(bed.ProcDate, 501, "diffimage.fits");
        await bed.Store.PutFileAsync(source, local);
        var target = bed.Keys.Product(bed.ProcDate, 501, "rapid_diff_r99_v1.fits");
        var config = new JobConfig
        {
            Jid = 601, ProcDate = bed.ProcDate.ToString(),
            Spec = new PostProcessingSpec
            {
                SourceJid = 501, SourcePpid = PipelineIds.Science,
                Products = [new ProductToStamp { Role = ProductRoles.DifferenceImage, Source = source, Target = target, Keywords = new Dictionary<string, string> { ["PID"] = "1234", ["RFID"] = "42" } }],
            },
        };

        var run = await bed.RunAsync(config);

        Assert.True(run.ExitCode == ExitCodes.Success, run.Manifest?.Reason);
        var outcome = Assert.IsType<PostProcessingOutcome>(run.Manifest!.Outcome);
        var stamped = Assert.Single(outcome.Stamped);
        Assert.Equal(target, stamped.File);
        Assert.Equal(501, outcome.SourceJid);
        Assert.Equal(FileChecksum.Of(bed.PathOf(target)), stamped.Checksum);
        Assert.NotEqual(FileChecksum.Of(local).Sha256, stamped.Checksum.Sha256);
        var image = FitsFile.ReadImage(bed.PathOf(target));
        Assert.Equal(1234, image.Header.GetLong("PID"));
        Assert.Equal(42, image.Header.GetLong("RFID"));
        Assert.Equal(pixels, image.Pixels);
        FitsVerify.AssertValid(bed.PathOf(target));
    }

    [Fact]
    public async Task Missing_source_ends_with_65()
    {
        using var bed = new JobTestBed();
        var config = new JobConfig
        {
            Jid = 602, ProcDate = bed.ProcDate.ToString(),
            Spec = new PostProcessingSpec
            {
                SourceJid = 501, SourcePpid = PipelineIds.Science,
                Products = [new ProductToStamp { Role = ProductRoles.DifferenceImage, Source = bed.Keys.Product(bed.ProcDate, 501, "gone.fits"), Target = bed.Keys.Product(bed.ProcDate, 501, "x.fits") }],
            },
        };

        var run = await bed.RunAsync(config);

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains("gone.fits does not exist", run.Manifest!.Reason);
    }
}
