namespace Rapid.Pipeline.Imaging;

/// <summary>
/// A detected peak. X, Y: 0-based array coordinates of the flux-weighted centroid (FITS pixel = X + 1).
/// PeakSignificance: the significance map's value at the peak pixel (negative for negative detections).
/// </summary>
public sealed record Detection(double X, double Y, int PeakX, int PeakY, double PeakSignificance, int Sign, int NPixels);

/// <summary>
/// Finds sources on a significance map (image / uncertainty): pixels beyond the threshold are grouped
/// into 8-connected regions of at least <c>minPixels</c>, and each region yields one detection per
/// local maximum that is the extreme within <c>peakRadius</c> pixels (a simple deblending, as
/// in DAOFIND-like peak finders). Negative detections are found on the negated map.
/// </summary>
public sealed class PeakDetector(double thresholdSigma = 5.0, int minPixels = 3, int peakRadius = 3)
{
    private readonly int _minPixels = minPixels;

    public double ThresholdSigma { get; } = thresholdSigma;

    /// <summary>Positive and (when <paramref name="includeNegative"/>) negative detections.</summary>
    public IReadOnlyList<Detection> Detect(float[] significance, float[] image, int width, int height, bool includeNegative = true)
    {
        // One label array (68 MB at 4088^2) serves both signs when the threshold is positive: no pixel is then both
        // >= T and <= -T, so positive regions take labels 1, 2, ... and negative ones -1, -2, ... without meeting.
        var label = new int[width * height];
        var (s, v) = (new PixelArray(significance), new PixelArray(image));
        var result = DetectSigned(s, v, width, height, +1, label, null);
        if (includeNegative) result.AddRange(DetectSigned(s, v, width, height, -1, ThresholdSigma > 0 ? label : new int[label.Length], null));
        return result;
    }

    /// <summary>
    /// The positive detections of the regions that hold at least one of <paramref name="seeds"/> (pixel indices, in
    /// increasing order), with significance and image values computed on demand: regions that touch no seed are never
    /// visited, so a search confined to a few pixels of a large image costs only those regions. The regions and their
    /// peaks are exactly those <see cref="Detect"/> finds (a region is followed beyond the seeds to its whole extent).
    /// </summary>
    public List<Detection> DetectFromSeeds<TSignificance, TImage>(TSignificance significance, TImage image, IEnumerable<int> seeds, int width, int height)
        where TSignificance : struct, IPixelValues where TImage : struct, IPixelValues
    {
        ArgumentNullException.ThrowIfNull(seeds);
        return DetectSigned(significance, image, width, height, +1, new int[width * height], seeds);
    }

    private List<Detection> DetectSigned<TSignificance, TImage>(TSignificance significance, TImage image, int width, int height, int sign, int[] label, IEnumerable<int>? seeds)
        where TSignificance : struct, IPixelValues where TImage : struct, IPixelValues
    {
        var search = new RegionSearch<TSignificance, TImage>(this, significance, image, width, height, sign, label);
        if (seeds is null)
            for (var start = 0; start < label.Length; start++) search.From(start);
        else
            foreach (var start in seeds) search.From(start);
        return search.Detections;
    }

    /// <summary>The regions found so far and their peaks; each start pixel at or beyond the threshold not yet in a region begins one.</summary>
    private sealed class RegionSearch<TSignificance, TImage>(PeakDetector detector, TSignificance significance, TImage image, int width, int height, int sign, int[] label)
        where TSignificance : struct, IPixelValues where TImage : struct, IPixelValues
    {
        private readonly Stack<int> _stack = new();
        private readonly List<int> _region = [];
        private int _nextLabel;

        public List<Detection> Detections { get; } = [];

        public void From(int start)
        {
            var threshold = detector.ThresholdSigma;
            if (label[start] != 0 || !(sign * significance[start] >= threshold)) return;
            _nextLabel += sign;
            _region.Clear();
            _stack.Push(start);
            label[start] = _nextLabel;
            while (_stack.Count > 0)
            {
                var p = _stack.Pop();
                _region.Add(p);
                int px = p % width, py = p / width;
                for (var dy = -1; dy <= 1; dy++)
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        int x = px + dx, y = py + dy;
                        if (x < 0 || y < 0 || x >= width || y >= height) continue;
                        var q = y * width + x;
                        if (label[q] != 0 || !(sign * significance[q] >= threshold)) continue;
                        label[q] = _nextLabel;
                        _stack.Push(q);
                    }
            }
            if (_region.Count < detector._minPixels) return;
            foreach (var p in _region)
            {
                if (!detector.IsPeak(significance, width, height, p, sign, _nextLabel, label)) continue;
                int px = p % width, py = p / width;
                var (cx, cy) = Centroid(image, width, height, px, py, sign);
                Detections.Add(new Detection(cx, cy, px, py, significance[p], sign, _region.Count));
            }
        }
    }

    // The extreme within peakRadius among pixels of the same region; ties go to the lowest index.
    private bool IsPeak<TMap>(TMap s, int width, int height, int p, int sign, int regionLabel, int[] label) where TMap : struct, IPixelValues
    {
        int px = p % width, py = p / width;
        var v = sign * s[p];
        for (var y = Math.Max(0, py - peakRadius); y <= Math.Min(height - 1, py + peakRadius); y++)
            for (var x = Math.Max(0, px - peakRadius); x <= Math.Min(width - 1, px + peakRadius); x++)
            {
                var q = y * width + x;
                if (q == p || label[q] != regionLabel) continue;
                var w = sign * s[q];
                if (w > v || (w == v && q < p)) return false;
            }
        return true;
    }

    // Flux-weighted centroid in the 5x5 box around the peak, using only same-signed values.
    private static (double X, double Y) Centroid<TMap>(TMap image, int width, int height, int px, int py, int sign) where TMap : struct, IPixelValues
    {
        double sum = 0, sx = 0, sy = 0;
        for (var y = Math.Max(0, py - 2); y <= Math.Min(height - 1, py + 2); y++)
            for (var x = Math.Max(0, px - 2); x <= Math.Min(width - 1, px + 2); x++)
            {
                var v = sign * image[y * width + x];
                if (!(v > 0)) continue;
                sum += v; sx += v * x; sy += v * y;
            }
        return sum > 0 ? (sx / sum, sy / sum) : (px, py);
    }
}

/// <summary>
/// Pixel values of a row-major image by index, read where they are needed: an array, or values computed on demand.
/// A struct implementing it lets the detector's loops be compiled for it (no virtual call per pixel).
/// </summary>
public interface IPixelValues
{
    float this[int index] { get; }
}

/// <summary>An array's values as <see cref="IPixelValues"/>.</summary>
public readonly struct PixelArray(float[] values) : IPixelValues
{
    public float this[int index] => values[index];
}
