namespace Rapid.Pipeline.Imaging;

/// <summary>
/// One input already on the output grid: flux (NaN = no data), its variance and its resampling coverage (0..1),
/// over the Width x Height box of the grid whose first pixel is the grid's 0-based (X0, Y0) — the input's
/// footprint, so a small input on a large tile costs only its own area.
/// </summary>
public sealed record CoaddLayer(float[] Flux, float[] Variance, float[] Coverage, int X0, int Y0, int Width, int Height)
{
    /// <summary>A layer covering the whole of a grid <paramref name="gridWidth"/> pixels wide.</summary>
    public CoaddLayer(float[] flux, float[] variance, float[] coverage, int gridWidth)
        : this(flux, variance, coverage, 0, 0, gridWidth, flux.Length / gridWidth) { }
}

/// <summary>
/// The co-added image (NaN where no input contributes), its 1-sigma uncertainty, the coverage
/// map (sum of the resampling coverage of the inputs kept at each pixel) and how many values
/// the outlier rejection removed.
/// </summary>
public sealed record CoaddPlanes(float[] Image, float[] Uncertainty, float[] Coverage, long RejectedValues);

/// <summary>
/// Per-pixel inverse-variance weighted mean across inputs with outlier rejection, as in
/// awaicgen/SWarp-style co-adders: a value is rejected when it lies more than
/// <c>clipSigma</c> of its own uncertainty (plus a small fraction of the flux, so PSF-core
/// interpolation differences are not mistaken for outliers) from the median of the stack.
/// Rejection needs at least three values at a pixel; with fewer the stack is averaged as is.
/// </summary>
public sealed class ClippedWeightedCoadd(double clipSigma = 3.0, double fluxTolerance = 0.1, double minCoverage = 0.01)
{
    public CoaddPlanes Combine(IReadOnlyList<CoaddLayer> layers, int gridWidth, int gridHeight)
    {
        if (layers.Count == 0) throw new ArgumentException("no layers to co-add");
        foreach (var l in layers)
        {
            var count = l.Width * l.Height;
            if (l.Flux.Length != count || l.Variance.Length != count || l.Coverage.Length != count)
                throw new ArgumentException("every layer must have one value per pixel of its box");
            if (l.X0 < 0 || l.Y0 < 0 || l.X0 + l.Width > gridWidth || l.Y0 + l.Height > gridHeight)
                throw new ArgumentException("a layer's box lies outside the grid");
        }
        var pixelCount = gridWidth * gridHeight;
        var image = new float[pixelCount];
        var uncertainty = new float[pixelCount];
        var coverage = new float[pixelCount];
        long rejected = 0;
        var n = layers.Count;
        // Per layer as plain arrays and ints, so the per-pixel loop does no property or list access.
        var flux = layers.Select(l => l.Flux).ToArray();
        var vars = layers.Select(l => l.Variance).ToArray();
        var covs = layers.Select(l => l.Coverage).ToArray();
        var boxes = layers.Select(l => (l.X0, l.Y0, l.Width, l.Height)).ToArray();
        var clip2 = clipSigma * clipSigma;
        var tol2 = fluxTolerance * fluxTolerance;
        Parallel.For(0, gridHeight, () => (Values: new float[n], Scratch: new float[n], Index: new int[n], Offset: new int[n], Rejected: 0L), (row, _, local) =>
        {
            var (values, scratch, index, offset) = (local.Values, local.Scratch, local.Index, local.Offset);
            // The layers holding this row, and where the row starts in each.
            var active = 0;
            Span<int> layerOfRow = n <= 256 ? stackalloc int[n] : new int[n];
            for (var k = 0; k < n; k++)
                if (row >= boxes[k].Y0 && row < boxes[k].Y0 + boxes[k].Height) layerOfRow[active++] = k;
            for (var x = 0; x < gridWidth; x++)
            {
                var p = row * gridWidth + x;
                var m = 0;
                for (var a = 0; a < active; a++)
                {
                    var k = layerOfRow[a];
                    var (x0, y0, w, _) = boxes[k];
                    var lx = x - x0;
                    if ((uint)lx >= (uint)w) continue;
                    var q = (row - y0) * w + lx;
                    var f = flux[k][q];
                    var v = vars[k][q];
                    if (covs[k][q] >= minCoverage && float.IsFinite(f) && v > 0 && float.IsFinite(v))
                    {
                        values[m] = f;
                        offset[m] = q;
                        index[m++] = k;
                    }
                }
                if (m == 0) { image[p] = float.NaN; uncertainty[p] = float.NaN; coverage[p] = 0; continue; }
                var median = 0.0;
                if (m >= 3)
                {
                    values.AsSpan(0, m).CopyTo(scratch);
                    median = RobustStatistics.MedianInPlace(scratch.AsSpan(0, m));
                }
                // |value - median| > clip * sqrt(variance + (tolerance * median)^2), compared squared: no root or power per value.
                var medianTerm = tol2 * median * median;
                double sumW = 0, sumWV = 0, cov = 0;
                for (var j = 0; j < m; j++)
                {
                    var k = index[j];
                    var q = offset[j];
                    var variance = (double)vars[k][q];
                    if (m >= 3)
                    {
                        var d = values[j] - median;
                        if (d * d > clip2 * (variance + medianTerm)) { local.Rejected++; continue; }
                    }
                    var wgt = 1.0 / variance;
                    sumW += wgt;
                    sumWV += wgt * values[j];
                    cov += covs[k][q];
                }
                image[p] = sumW > 0 ? (float)(sumWV / sumW) : float.NaN;
                uncertainty[p] = sumW > 0 ? (float)Math.Sqrt(1.0 / sumW) : float.NaN;
                coverage[p] = (float)cov;
            }
            return local;
        }, local => Interlocked.Add(ref rejected, local.Rejected));
        return new CoaddPlanes(image, uncertainty, coverage, rejected);
    }
}
