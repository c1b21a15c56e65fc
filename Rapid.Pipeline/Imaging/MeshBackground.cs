namespace Rapid.Pipeline.Imaging;

/// <summary>
/// A smooth background per pixel (same units as the image), plus global figures: the median level and RMS of the
/// mesh. (No caller reads the RMS per pixel, so it is not interpolated: that was another image-sized pass and array.)
/// </summary>
public sealed record BackgroundMap(int Width, int Height, float[] Background, double GlobalMedian, double GlobalRms)
{
    /// <summary>A copy of <paramref name="pixels"/> with the background subtracted (NaN stays NaN).</summary>
    public float[] Subtract(float[] pixels)
    {
        var result = new float[pixels.Length];
        Parallel.For(0, Height, y =>
        {
            for (var i = y * Width; i < (y + 1) * Width; i++) result[i] = pixels[i] - Background[i];
        });
        return result;
    }
}

/// <summary>
/// Background estimation on a mesh, in the manner of SExtractor (Bertin &amp; Arnouts 1996):
/// per mesh cell a sigma-clipped median and sigma, cells with too few valid pixels filled from
/// their neighbours, a median filter over the mesh, then bilinear interpolation between cell
/// centres. This is the walking-skeleton estimator; SExtractor's clipped mode
/// (2.5·median − 1.5·mean) and bicubic interpolation are the planned upgrade.
/// </summary>
public sealed class MeshBackgroundEstimator(int meshSize = 64, int filterSize = 3, double clipSigma = 3.0)
{
    public int MeshSize { get; } = meshSize > 0 ? meshSize : throw new ArgumentOutOfRangeException(nameof(meshSize));

    public BackgroundMap Estimate(float[] pixels, int width, int height)
    {
        if (pixels.Length != width * height) throw new ArgumentException("pixel count does not match width x height");
        var nx = Math.Max(1, (int)Math.Round((double)width / MeshSize));
        var ny = Math.Max(1, (int)Math.Round((double)height / MeshSize));
        var cellW = (double)width / nx;
        var cellH = (double)height / ny;
        var level = new double[nx * ny];
        var sigma = new double[nx * ny];
        var cellCapacity = (int)Math.Ceiling(cellW + 1) * (int)Math.Ceiling(cellH + 1);
        // Mesh rows in parallel, each worker with its own buffers: the clipped statistics of a 64 x 64 cell
        // iterate up to six times, and a 4088 x 4088 image has 4096 cells.
        Parallel.For(0, ny, () => (Cell: new float[cellCapacity], Work: new float[cellCapacity]), (cy, _, buffers) =>
        {
            var cell = buffers.Cell;
            for (var cx = 0; cx < nx; cx++)
            {
                int x0 = (int)Math.Round(cx * cellW), x1 = (int)Math.Round((cx + 1) * cellW);
                int y0 = (int)Math.Round(cy * cellH), y1 = (int)Math.Round((cy + 1) * cellH);
                var n = 0;
                for (var y = y0; y < y1; y++)
                {
                    foreach (var v in pixels.AsSpan(y * width + x0, x1 - x0))
                        if (float.IsFinite(v)) cell[n++] = v;
                }
                // Fewer than half the cell valid: not trusted, filled from neighbours below.
                var stats = n >= (x1 - x0) * (y1 - y0) / 2 && n > 3
                    ? RobustStatistics.SigmaClipInPlace(cell.AsSpan(0, n), buffers.Work, clipSigma)
                    : ClippedStatistics.Empty;
                level[cy * nx + cx] = stats.Median;
                sigma[cy * nx + cx] = stats.Sigma;
            }
            return buffers;
        }, _ => { });
        FillInvalid(level, nx, ny);
        FillInvalid(sigma, nx, ny);
        level = MedianFilter(level, nx, ny, filterSize);
        sigma = MedianFilter(sigma, nx, ny, filterSize);
        var background = Interpolate(level, nx, ny, cellW, cellH, width, height);
        return new BackgroundMap(width, height, background, Median(level), Median(sigma));
    }

    private static double Median(double[] values)
    {
        var finite = values.Where(double.IsFinite).Select(v => (float)v).ToArray();
        return finite.Length == 0 ? double.NaN : RobustStatistics.MedianInPlace(finite);
    }

    // Invalid cells take the mean of their valid neighbours, growing outwards; an image with no
    // valid cell at all gets 0 (nothing to subtract) rather than NaN everywhere.
    private static void FillInvalid(double[] mesh, int nx, int ny)
    {
        if (!mesh.Any(double.IsFinite)) { Array.Fill(mesh, 0.0); return; }
        while (mesh.Any(v => !double.IsFinite(v)))
        {
            var next = (double[])mesh.Clone();
            for (var y = 0; y < ny; y++)
                for (var x = 0; x < nx; x++)
                {
                    if (double.IsFinite(mesh[y * nx + x])) continue;
                    double sum = 0; var count = 0;
                    for (var dy = -1; dy <= 1; dy++)
                        for (var dx = -1; dx <= 1; dx++)
                        {
                            int xx = x + dx, yy = y + dy;
                            if (xx < 0 || yy < 0 || xx >= nx || yy >= ny) continue;
                            var v = mesh[yy * nx + xx];
                            if (double.IsFinite(v)) { sum += v; count++; }
                        }
                    if (count > 0) next[y * nx + x] = sum / count;
                }
            Array.Copy(next, mesh, mesh.Length);
        }
    }

    private static double[] MedianFilter(double[] mesh, int nx, int ny, int size)
    {
        if (size <= 1) return mesh;
        var half = size / 2;
        var result = new double[mesh.Length];
        var window = new float[size * size];
        for (var y = 0; y < ny; y++)
            for (var x = 0; x < nx; x++)
            {
                var n = 0;
                for (var yy = Math.Max(0, y - half); yy <= Math.Min(ny - 1, y + half); yy++)
                    for (var xx = Math.Max(0, x - half); xx <= Math.Min(nx - 1, x + half); xx++)
                        window[n++] = (float)mesh[yy * nx + xx];
                result[y * nx + x] = RobustStatistics.MedianInPlace(window.AsSpan(0, n));
            }
        return result;
    }

    // Bilinear between cell centres; constant beyond the outermost centres.
    private static float[] Interpolate(double[] mesh, int nx, int ny, double cellW, double cellH, int width, int height)
    {
        var result = new float[width * height];
        // The column weights are the same on every row: computed once, not per pixel.
        var cols = new (int X0, int X1, double Tx)[width];
        for (var x = 0; x < width; x++)
        {
            var gx = Math.Clamp((x + 0.5) / cellW - 0.5, 0, nx - 1);
            var x0 = Math.Min((int)gx, Math.Max(nx - 2, 0));
            cols[x] = (x0, Math.Min(x0 + 1, nx - 1), gx - x0);
        }
        Parallel.For(0, height, y =>
        {
            var gy = Math.Clamp((y + 0.5) / cellH - 0.5, 0, ny - 1);
            var y0 = Math.Min((int)gy, Math.Max(ny - 2, 0));
            var y1 = Math.Min(y0 + 1, ny - 1);
            var ty = gy - y0;
            var row = result.AsSpan(y * width, width);
            for (var x = 0; x < width; x++)
            {
                var (x0, x1, tx) = cols[x];
                var top = mesh[y0 * nx + x0] * (1 - tx) + mesh[y0 * nx + x1] * tx;
                var bottom = mesh[y1 * nx + x0] * (1 - tx) + mesh[y1 * nx + x1] * tx;
                row[x] = (float)(top * (1 - ty) + bottom * ty);
            }
        });
        return result;
    }
}
