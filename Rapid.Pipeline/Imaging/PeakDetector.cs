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
    public double ThresholdSigma { get; } = thresholdSigma;

    /// <summary>Positive and (when <paramref name="includeNegative"/>) negative detections.</summary>
    public IReadOnlyList<Detection> Detect(float[] significance, float[] image, int width, int height, bool includeNegative = true)
    {
        // One label array (68 MB at 4088^2) serves both signs when the threshold is positive: no pixel is then both
        // >= T and <= -T, so positive regions take labels 1, 2, ... and negative ones -1, -2, ... without meeting.
        var label = new int[width * height];
        var result = DetectSigned(significance, image, width, height, +1, label);
        if (includeNegative) result.AddRange(DetectSigned(significance, image, width, height, -1, ThresholdSigma > 0 ? label : new int[label.Length]));
        return result;
    }

    private List<Detection> DetectSigned(float[] significance, float[] image, int width, int height, int sign, int[] label)
    {
        var detections = new List<Detection>();
        var stack = new Stack<int>();
        var region = new List<int>();
        var nextLabel = 0;
        for (var start = 0; start < label.Length; start++)
        {
            if (label[start] != 0 || !(sign * significance[start] >= ThresholdSigma)) continue;
            nextLabel += sign;
            region.Clear();
            stack.Push(start);
            label[start] = nextLabel;
            while (stack.Count > 0)
            {
                var p = stack.Pop();
                region.Add(p);
                int px = p % width, py = p / width;
                for (var dy = -1; dy <= 1; dy++)
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        int x = px + dx, y = py + dy;
                        if (x < 0 || y < 0 || x >= width || y >= height) continue;
                        var q = y * width + x;
                        if (label[q] != 0 || !(sign * significance[q] >= ThresholdSigma)) continue;
                        label[q] = nextLabel;
                        stack.Push(q);
                    }
            }
            if (region.Count < minPixels) continue;
            foreach (var p in region)
            {
                if (!IsPeak(significance, width, height, p, sign, nextLabel, label)) continue;
                int px = p % width, py = p / width;
                var (cx, cy) = Centroid(image, width, height, px, py, sign);
                detections.Add(new Detection(cx, cy, px, py, significance[p], sign, region.Count));
            }
        }
        return detections;
    }

    // The extreme within peakRadius among pixels of the same region; ties go to the lowest index.
    private bool IsPeak(float[] s, int width, int height, int p, int sign, int regionLabel, int[] label)
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
    private static (double X, double Y) Centroid(float[] image, int width, int height, int px, int py, int sign)
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
