using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Resampling;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Imaging;

/// <summary>The output grid of a co-add: its size and north-up TAN WCS.</summary>
public sealed record CoaddGrid(int Width, int Height, TanSipWcs Wcs)
{
    /// <summary>A north-up grid with CRPIX at the grid centre ((N + 1) / 2, 1-based FITS pixels), as the sky tiles are defined.</summary>
    public static CoaddGrid NorthUp(double centerRaDeg, double centerDecDeg, int width, int height, double pixelScaleArcsec) =>
        new(width, height, TanSipWcs.NorthUp(centerRaDeg, centerDecDeg, (width + 1) / 2.0, (height + 1) / 2.0, pixelScaleArcsec));
}

/// <summary>
/// A co-added reference: Image (DN/s at the inputs' common zero point), Uncertainty (DN/s, 1σ),
/// Coverage (number of inputs contributing, weighted by resampling coverage), which inputs were used.
/// </summary>
public sealed record ReferenceCoadd(CoaddGrid Grid, float[] Image, float[] Uncertainty, float[] Coverage,
    IReadOnlyList<CalibratedImage> Used, long RejectedValues);

/// <summary>
/// Builds a reference image: each input is resampled onto the grid with Lanczos-3 (variance propagated),
/// then the stack is combined by <see cref="ClippedWeightedCoadd"/>. Inputs are added one at a time, so
/// only the resampled layers (not the full-size inputs) stay in memory.
/// </summary>
public sealed class ReferenceCoadder(CoaddGrid grid, double clipSigma)
{
    /// <summary>An input must cover at least this fraction of the grid to be used.</summary>
    public const double MinOverlapFraction = 0.01;

    private readonly List<CoaddLayer> _layers = [];
    private readonly List<CalibratedImage> _used = [];

    public CoaddGrid Grid { get; } = grid;
    public int UsedCount => _layers.Count;

    /// <summary>Resamples one input onto the grid; false (and nothing kept) when it barely overlaps the grid.</summary>
    public bool Add(CalibratedImage input)
    {
        var resampled = LanczosResampler.Resample(input.ToFitsImage(), input.Wcs, Grid.Width, Grid.Height, Grid.Wcs, input.Variance);
        double covered = 0;
        foreach (var c in resampled.Coverage) covered += c;
        if (covered < MinOverlapFraction * Grid.Width * Grid.Height) return false;
        _layers.Add(new CoaddLayer(resampled.Pixels, resampled.Variance ?? throw new InvalidOperationException("the resampler returned no variance"), resampled.Coverage));
        // Keep the metadata only: the full-size rate and variance arrays are not needed any more.
        _used.Add(new CalibratedImage
        {
            Source = input.Source, Width = input.Width, Height = input.Height, Rate = [], Variance = [],
            Wcs = input.Wcs, Header = input.Header, ExpTime = input.ExpTime, MjdObs = input.MjdObs,
            ZeroPointMag = input.ZeroPointMag, SaturatedPixels = input.SaturatedPixels,
        });
        return true;
    }

    public ReferenceCoadd Combine()
    {
        var planes = new ClippedWeightedCoadd(clipSigma).Combine(_layers, Grid.Width * Grid.Height);
        return new ReferenceCoadd(Grid, planes.Image, planes.Uncertainty, planes.Coverage, _used.ToList(), planes.RejectedValues);
    }
}
