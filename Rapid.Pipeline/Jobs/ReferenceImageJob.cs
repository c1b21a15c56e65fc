using Rapid.Core.Contracts;
using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Jobs;

/// <summary>Pipeline 12: co-adds a field's earlier images onto its tile grid into a reference image.</summary>
public sealed class ReferenceImageJob : PipelineJob<ReferenceImageSpec, ReferenceImageOutcome>
{
    protected override async Task<JobResult<ReferenceImageOutcome>> RunAsync(JobContext context, ReferenceImageSpec spec, CancellationToken ct)
    {
        var tile = spec.Tile;
        var first = spec.Inputs.FirstOrDefault();
        var grid = CoaddGrid.NorthUp(tile.CenterRaDeg, tile.CenterDecDeg, tile.Naxis1, tile.Naxis2, tile.PixelScaleArcsec);
        var built = await ReferenceCoaddStep.BuildAsync(context, spec.Inputs, grid, tile.Field, first?.Fid ?? 0, first?.Filter ?? "", ct);
        return new JobResult<ReferenceImageOutcome>(built.Products, new ReferenceImageOutcome { Reference = built.Result });
    }
}
