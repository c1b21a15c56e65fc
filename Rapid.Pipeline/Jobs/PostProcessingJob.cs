using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// Pipeline 17: stamps registered products with their database ids (FITS keywords in the primary header,
/// data unchanged), writes each to its canonical target and records the new checksums.
/// </summary>
public sealed class PostProcessingJob : IPipelineJob
{
    public async Task<JobResult> RunAsync(JobContext context, CancellationToken ct)
    {
        var input = context.Config.PostProcessing
            ?? throw new JobFailedException(ExitCodes.InvalidConfig, $"job {context.Config.Jid}: a post-processing job needs PostProcessing products");
        var stamped = new List<ProductFile>();
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
                stamped.Add(new ProductFile(product.Role, product.Target, checksum));
                context.Log.Info($"stamped {product.Source} -> {product.Target} ({string.Join(", ", product.Keywords.Keys)}; md5 {checksum.Md5})");
            }
        }
        return new JobResult { PostProcessing = new PostProcessingResult { SourceJid = input.SourceJid, Stamped = stamped } };
    }
}
