using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// Pipeline 17: stamps registered products with their database ids (FITS keywords in the primary header,
/// data unchanged), writes each to its canonical target and records the new checksums.
/// </summary>
public sealed class PostProcessingJob : PipelineJob<PostProcessingSpec, PostProcessingOutcome>
{
    protected override async Task<JobResult<PostProcessingOutcome>> RunAsync(JobContext context, PostProcessingSpec input, CancellationToken ct)
    {
        var stamped = new List<StampedProduct>();
        using (context.Log.Step("stamp"))
        {
            foreach (var product in input.Products)
            {
                var source = await context.DownloadInputAsync(product.Source, null, ct);
                var target = Path.Combine(Path.GetDirectoryName(source)!, "stamped-" + product.Target.FileName);
                try
                {
                    FitsFile.UpdateKeywords(source, target, product.Keywords);
                }
                catch (Exception e) when (e is FitsFormatException or IOException)
                {
                    throw JobFailedException.InvalidInput($"{product.Source}: {e.Message}", e);
                }
                catch (ArgumentException e)
                {
                    // A keyword the config may not set (e.g. NAXIS1): the config is wrong, not the file.
                    throw new JobFailedException(ExitCodes.InvalidConfig, $"stamping {product.Target}: {e.Message}", e);
                }
                var checksum = FileChecksum.Of(target);
                await context.Store.PutFileAsync(product.Target, target, ct);
                stamped.Add(new StampedProduct { Role = product.Role, Source = product.Source, File = product.Target, Checksum = checksum });
                context.Log.Info($"stamped {product.Source} -> {product.Target} ({string.Join(", ", product.Keywords.Keys)}; md5 {checksum.Md5})");
            }
        }
        return new JobResult<PostProcessingOutcome>([], new PostProcessingOutcome { SourceJid = input.SourceJid, Stamped = stamped });
    }
}
