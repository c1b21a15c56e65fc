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
        Parallel.For(0, Environment.ProcessorCount, () => 0L, (worker, _, localRejected) =>
        {
            var values = new float[n];
            var scratch = new float[n];
            var index = new int[n];
            var offset = new int[n];
            // Rows are dealt round-robin to the workers; each worker walks its rows left to right.
            for (var row = worker; row < gridHeight; row += Environment.ProcessorCount)
            for (var x = 0; x < gridWidth; x++)
            {
                var p = row * gridWidth + x;
                var m = 0;
                for (var k = 0; k < n; k++)
                {
                    var l = layers[k];
                    int lx = x - l.X0, ly = row - l.Y0;
                    if (lx < 0 || ly < 0 || lx >= l.Width || ly >= l.Height) continue;
                    var q = ly * l.Width + lx;
                    if (l.Coverage[q] >= minCoverage && float.IsFinite(l.Flux[q]) && l.Variance[q] > 0 && float.IsFinite(l.Variance[q]))
                    {
                        values[m] = l.Flux[q];
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
                double sumW = 0, sumWV = 0, cov = 0;
                for (var j = 0; j < m; j++)
                {
                    var l = layers[index[j]];
                    var q = offset[j];
                    var variance = (double)l.Variance[q];
                    if (m >= 3)
                    {
                        var tolerance = clipSigma * Math.Sqrt(variance + Math.Pow(fluxTolerance * median, 2));
                        if (Math.Abs(values[j] - median) > tolerance) { localRejected++; continue; }
                    }
                    var w = 1.0 / variance;
                    sumW += w;
                    sumWV += w * values[j];
                    cov += l.Coverage[q];
                }
                image[p] = sumW > 0 ? (float)(sumWV / sumW) : float.NaN;
                uncertainty[p] = sumW > 0 ? (float)Math.Sqrt(1.0 / sumW) : float.NaN;
                coverage[p] = (float)cov;
            }
            return localRejected;
        }, local => Interlocked.Add(ref rejected, local));
        return new CoaddPlanes(image, uncertainty, coverage, rejected);
    }
}
