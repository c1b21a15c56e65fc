namespace Rapid.Pipeline.Imaging;

/// <summary>One input already on the output grid: flux (NaN = no data), its variance and its resampling coverage (0..1).</summary>
public sealed record CoaddLayer(float[] Flux, float[] Variance, float[] Coverage);

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
    public CoaddPlanes Combine(IReadOnlyList<CoaddLayer> layers, int pixelCount)
    {
        if (layers.Count == 0) throw new ArgumentException("no layers to co-add");
        foreach (var l in layers)
            if (l.Flux.Length != pixelCount || l.Variance.Length != pixelCount || l.Coverage.Length != pixelCount)
                throw new ArgumentException("every layer must have one value per output pixel");
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
            for (var p = worker; p < pixelCount; p += Environment.ProcessorCount)
            {
                var m = 0;
                for (var k = 0; k < n; k++)
                {
                    var l = layers[k];
                    if (l.Coverage[p] >= minCoverage && float.IsFinite(l.Flux[p]) && l.Variance[p] > 0 && float.IsFinite(l.Variance[p]))
                    {
                        values[m] = l.Flux[p];
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
                    var variance = (double)l.Variance[p];
                    if (m >= 3)
                    {
                        var tolerance = clipSigma * Math.Sqrt(variance + Math.Pow(fluxTolerance * median, 2));
                        if (Math.Abs(values[j] - median) > tolerance) { localRejected++; continue; }
                    }
                    var w = 1.0 / variance;
                    sumW += w;
                    sumWV += w * values[j];
                    cov += l.Coverage[p];
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
