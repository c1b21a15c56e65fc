using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Rapid.Pipeline.Imaging;

/// <summary>
/// One input already on the output grid: flux (NaN = no data), its variance and its resampling coverage (0..1),
/// over the Width x Height box of the grid whose first pixel is the grid's 0-based (X0, Y0) — the input's
/// footprint, so a small input on a large tile costs only its own area. The frame's noise model (its background
/// variance and source variance per unit flux) is measured from the layer unless given.
/// </summary>
public sealed record CoaddLayer(float[] Flux, float[] Variance, float[] Coverage, int X0, int Y0, int Width, int Height)
{
    /// <summary>A layer covering the whole of a grid <paramref name="gridWidth"/> pixels wide.</summary>
    public CoaddLayer(float[] flux, float[] variance, float[] coverage, int gridWidth)
        : this(flux, variance, coverage, 0, 0, gridWidth, flux.Length / gridWidth) { }

    /// <summary>The variance of the frame's background pixels (flux units²); NaN: measured by <see cref="FrameNoise"/>.</summary>
    public double BackgroundVariance { get; init; } = double.NaN;
    /// <summary>The variance a unit of source flux adds (its Poisson noise, flux units); NaN: measured by <see cref="FrameNoise"/>.</summary>
    public double SourceVariancePerFlux { get; init; } = double.NaN;
}

/// <summary>A frame's noise model: variance(f) = Background + PerFlux · max(f, 0), flux units.</summary>
public readonly record struct FrameNoise(double Background, double PerFlux)
{
    /// <summary>
    /// The layer's noise model, measured where not given: the background variance is the median of its variance map
    /// over fully covered pixels (sources cover a small part of a frame); the source term is the median of
    /// (variance − background) / flux over pixels more than 20 background sigma above zero, 0 without any.
    /// </summary>
    public static FrameNoise Of(CoaddLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var background = layer.BackgroundVariance;
        if (!double.IsFinite(background))
        {
            var sample = Sample(layer, i => layer.Variance[i], i => true);
            background = sample.Length > 0 ? RobustStatistics.Median(sample) : double.NaN;
        }
        var perFlux = layer.SourceVariancePerFlux;
        if (!double.IsFinite(perFlux) && background > 0)
        {
            var bright = 20 * Math.Sqrt(background);
            var sample = Sample(layer, i => (float)((layer.Variance[i] - background) / layer.Flux[i]), i => layer.Flux[i] > bright);
            perFlux = sample.Length > 0 ? Math.Max(0, RobustStatistics.Median(sample)) : 0;
        }
        return new FrameNoise(background, double.IsFinite(perFlux) ? perFlux : 0);
    }

    /// <summary>Values at about 2^18 fully covered (else any covered), finite pixels that pass the filter.</summary>
    private static float[] Sample(CoaddLayer layer, Func<int, float> value, Func<int, bool> include)
    {
        var stride = Math.Max(1, layer.Flux.Length >> 18) | 1;
        foreach (var least in (ReadOnlySpan<float>)[0.999f, float.Epsilon])
        {
            var values = new List<float>();
            for (var i = 0; i < layer.Flux.Length; i += stride)
            {
                if (!(layer.Coverage[i] >= least) || !float.IsFinite(layer.Flux[i]) || !(layer.Variance[i] > 0) || !float.IsFinite(layer.Variance[i]) || !include(i)) continue;
                var v = value(i);
                if (float.IsFinite(v)) values.Add(v);
            }
            if (values.Count > 0) return [.. values];
        }
        return [];
    }
}

/// <summary>
/// The co-added image (NaN where no input contributes), its 1-sigma uncertainty, the coverage map and how many values
/// the outlier rejection removed. Coverage is the sum of the resampling coverage of the inputs that observed each pixel,
/// rejected values included: it says how many frames cover the pixel (the LOW_COVERAGE flag, the coverage mask, whether
/// the co-add could reject a cosmic ray there), and clipping three values at 3 sigma also cuts the noise's own tail
/// (~0.5 % of values), which must not make a pixel look thinly covered.
/// </summary>
public sealed record CoaddPlanes(float[] Image, float[] Uncertainty, float[] Coverage, long RejectedValues);

/// <summary>
/// The weighted mean across inputs with outlier rejection, as SWarp's clipped-mean combine (Gruen et al. 2014, PASP
/// 126, 158). Each input is weighted by the inverse of its background variance, one weight per frame, so a source's
/// pixels are averaged arithmetically whatever their brightness in each frame (per-pixel weights from the data's own
/// variance would weight the bright epochs of a variable star and the upward fluctuations of every star's core down:
/// a harmonic mean, low by up to tens of per cent for variables, and a reference PSF that depends on brightness).
/// A value is rejected when it lies more than <c>clipSigma</c> model standard deviations from the stack's median,
/// the model variance being the frame's background variance, its source noise at the median flux, and
/// (<c>amplitudeFraction</c> · median)² for the differences that interpolating undersampled star cores at different
/// phases leaves and for real variability (SWarp's CLIP_AMPFRAC). clipSigma · amplitudeFraction is the variability a
/// source keeps: the defaults 3 and 0.4 keep up to 1.2 times the median, as SWarp's defaults (CLIP_SIGMA 4,
/// CLIP_AMPFRAC 0.3) do, so a pulsating star of ±0.7 mag is averaged whole while a cosmic ray on top of a star must
/// exceed 2.2 times the star to be rejected. Rejection needs at least three values at a pixel; with fewer the stack is
/// averaged as is. The uncertainty is the propagated one, sqrt(Σ w² σ²) / Σ w.
/// </summary>
public sealed class ClippedWeightedCoadd(double clipSigma = 3.0, double amplitudeFraction = 0.4, double minCoverage = 0.01)
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
        var noise = new FrameNoise[n];
        Parallel.For(0, n, k => noise[k] = FrameNoise.Of(layers[k]));
        for (var k = 0; k < n; k++)
            if (!(noise[k].Background > 0)) throw new ArgumentException($"co-add input {k + 1} has no measurable background variance");
        var clip2 = clipSigma * clipSigma;
        var tol2 = amplitudeFraction * amplitudeFraction;
        // The least float >= minCoverage: comparing floats with it is comparing them (as doubles) with minCoverage.
        var minCoverageFloat = (float)minCoverage < minCoverage ? MathF.BitIncrement((float)minCoverage) : (float)minCoverage;
        Parallel.For(0, gridHeight, () => new Worker(n), (row, _, worker) =>
        {
            // The layers holding this row.
            var active = 0;
            var layerOfRow = worker.LayerOfRow;
            for (var k = 0; k < n; k++)
                if (row >= boxes[k].Y0 && row < boxes[k].Y0 + boxes[k].Height) layerOfRow[active++] = k;
            var x = 0;
            if (Vector256.IsHardwareAccelerated && active <= MaxBlockLayers)
            {
                for (; x + BlockWidth <= gridWidth; x += BlockWidth)
                    if (!CombineBlock(worker, row, x, active)) CombinePixels(worker, row, x, x + BlockWidth, active);
            }
            CombinePixels(worker, row, x, gridWidth, active);
            return worker;
        }, worker => Interlocked.Add(ref rejected, worker.Rejected));

        // Pixels x0 .. x1 - 1 of a row one at a time: gather the valid values in layer order, their median, then Finish.
        void CombinePixels(Worker worker, int row, int x0, int x1, int active)
        {
            var (values, vs, cs, ks) = (worker.Values, worker.Variances, worker.Coverages, worker.Layers);
            for (var x = x0; x < x1; x++)
            {
                var m = 0;
                for (var a = 0; a < active; a++)
                {
                    var k = worker.LayerOfRow[a];
                    var (bx, by, w, _) = boxes[k];
                    var lx = x - bx;
                    if ((uint)lx >= (uint)w) continue;
                    var q = (row - by) * w + lx;
                    var f = flux[k][q];
                    var v = vars[k][q];
                    var c = covs[k][q];
                    if (c >= minCoverage && float.IsFinite(f) && v > 0 && float.IsFinite(v))
                    {
                        (values[m], vs[m], cs[m], ks[m]) = (f, v, c, k);
                        m++;
                    }
                }
                var median = 0.0;
                if (m >= 3)
                {
                    values.AsSpan(0, m).CopyTo(worker.Scratch);
                    median = RobustStatistics.MedianInPlace(worker.Scratch.AsSpan(0, m));
                }
                Finish(worker, row * gridWidth + x, m, median);
            }
        }

        // Eight pixels at once where every layer holds all of them or none: values, variances and coverages are loaded as
        // vectors, invalid ones become +Inf and the stack is sorted lane-wise by a min/max network (odd-even transposition),
        // so each lane's median is read from the sorted stack; the clipped sums then run per pixel exactly as in CombinePixels.
        bool CombineBlock(Worker worker, int row, int x, int active)
        {
            var inside = 0;
            var layers8 = worker.BlockLayers;
            for (var a = 0; a < active; a++)
            {
                var k = worker.LayerOfRow[a];
                var (bx, _, w, _) = boxes[k];
                if (x >= bx && x + BlockWidth <= bx + w) layers8[inside++] = k;
                else if (!(x + BlockWidth <= bx || x >= bx + w)) return false; // the box edge cuts the block
            }
            var (bf, bv, bc, sorted) = (worker.BlockFlux, worker.BlockVariance, worker.BlockCoverage, worker.Sorted);
            var minCov = Vector256.Create(minCoverageFloat);
            var inf = Vector256.Create(float.PositiveInfinity);
            for (var i = 0; i < inside; i++)
            {
                var k = layers8[i];
                var (bx, by, w, _) = boxes[k];
                var q = (nuint)((row - by) * w + x - bx);
                var f = Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(flux[k]), q);
                var v = Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(vars[k]), q);
                var c = Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(covs[k]), q);
                // Finite: |f| < +Inf (false for NaN); valid as in CombinePixels.
                var valid = Vector256.GreaterThanOrEqual(c, minCov) & Vector256.LessThan(Vector256.Abs(f), inf)
                    & Vector256.GreaterThan(v, Vector256<float>.Zero) & Vector256.LessThan(v, inf);
                f.StoreUnsafe(ref bf[i * BlockWidth]);
                v.StoreUnsafe(ref bv[i * BlockWidth]);
                c.StoreUnsafe(ref bc[i * BlockWidth]);
                worker.Valid[i] = valid.ExtractMostSignificantBits();
                sorted[i] = Vector256.ConditionalSelect(valid, f, inf);
            }
            for (var round = 0; round < inside; round++)
                for (var i = round & 1; i + 1 < inside; i += 2)
                    (sorted[i], sorted[i + 1]) = (Vector256.Min(sorted[i], sorted[i + 1]), Vector256.Max(sorted[i], sorted[i + 1]));

            var (values, vs, cs, ks) = (worker.Values, worker.Variances, worker.Coverages, worker.Layers);
            for (var lane = 0; lane < BlockWidth; lane++)
            {
                var m = 0;
                for (var i = 0; i < inside; i++)
                {
                    if ((worker.Valid[i] & (1u << lane)) == 0) continue;
                    var j = i * BlockWidth + lane;
                    (values[m], vs[m], cs[m], ks[m]) = (bf[j], bv[j], bc[j], layers8[i]);
                    m++;
                }
                var median = 0.0;
                if (m >= 3)
                    median = m % 2 == 1 ? sorted[m / 2].GetElement(lane) : 0.5 * (sorted[m / 2 - 1].GetElement(lane) + sorted[m / 2].GetElement(lane));
                Finish(worker, row * gridWidth + x + lane, m, median);
            }
            return true;
        }

        // The clipped, frame-weighted mean of the m valid values gathered in the worker, in layer order.
        void Finish(Worker worker, int p, int m, double median)
        {
            if (m == 0) { image[p] = float.NaN; uncertainty[p] = float.NaN; coverage[p] = 0; return; }
            var (values, vs, cs, ks) = (worker.Values, worker.Variances, worker.Coverages, worker.Layers);
            // |value - median| > clip * sqrt(model variance + (amplitude * median)^2), compared squared.
            var medianTerm = tol2 * median * median;
            var positive = Math.Max(median, 0);
            double sumW = 0, sumWV = 0, sumW2Var = 0, cov = 0;
            for (var j = 0; j < m; j++)
            {
                var frame = noise[ks[j]];
                cov += cs[j];
                if (m >= 3)
                {
                    var d = values[j] - median;
                    if (d * d > clip2 * (frame.Background + frame.PerFlux * positive + medianTerm)) { worker.Rejected++; continue; }
                }
                var wgt = 1.0 / frame.Background;
                sumW += wgt;
                sumWV += wgt * values[j];
                sumW2Var += wgt * wgt * vs[j];
            }
            image[p] = sumW > 0 ? (float)(sumWV / sumW) : float.NaN;
            uncertainty[p] = sumW > 0 ? (float)(Math.Sqrt(sumW2Var) / sumW) : float.NaN;
            coverage[p] = (float)cov;
        }
        return new CoaddPlanes(image, uncertainty, coverage, rejected);
    }

    private const int BlockWidth = 8;

    /// <summary>Above this many layers the sorting network (layers^2 / 2 min/max pairs per block) stops paying; pixels go one at a time.</summary>
    private const int MaxBlockLayers = 64;

    /// <summary>One worker thread's buffers, so the per-pixel loops allocate nothing.</summary>
    private sealed class Worker(int layers)
    {
        public readonly int[] LayerOfRow = new int[layers];
        public readonly int[] BlockLayers = new int[layers];
        public readonly uint[] Valid = new uint[layers];
        public readonly float[] Values = new float[layers];
        public readonly float[] Variances = new float[layers];
        public readonly float[] Coverages = new float[layers];
        public readonly int[] Layers = new int[layers];
        public readonly float[] Scratch = new float[layers];
        public readonly float[] BlockFlux = new float[layers * BlockWidth];
        public readonly float[] BlockVariance = new float[layers * BlockWidth];
        public readonly float[] BlockCoverage = new float[layers * BlockWidth];
        public readonly Vector256<float>[] Sorted = new Vector256<float>[layers];
        public long Rejected;
    }
}
