using Rapid.Core.Jobs;
using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Jobs;

/// <summary>Pipeline 12: co-adds a field's earlier images onto its tile grid into a reference image.</summary>
public sealed class ReferenceImageJob : IPipelineJob
{
    public async Task<JobResult> RunAsync(JobContext context, CancellationToken ct)
    {
        var config = context.Config;
        var tile = config.Tile ?? throw new JobFailedException(ExitCodes.InvalidConfig, $"job {config.Jid}: a reference image job needs a Tile");
        var reference = config.Reference ?? throw new JobFailedException(ExitCodes.InvalidConfig, $"job {config.Jid}: a reference image job needs Reference.Inputs");
        var first = reference.Inputs.FirstOrDefault();
        var grid = CoaddGrid.NorthUp(tile.CenterRaDeg, tile.CenterDecDeg, tile.Naxis1, tile.Naxis2, tile.PixelScaleArcsec);
        var built = await ReferenceCoaddStep.BuildAsync(context, reference, grid, tile.Field, first?.Fid ?? 0, first?.Filter ?? "", ct);
        return new JobResult { Products = built.Products, ReferenceImage = built.Result };
    }
}
