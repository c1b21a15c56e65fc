namespace Rapid.Pipeline.Psf;

/// <summary>
/// Candidate PSF stars, as DAOPHOT's and PSFEx's empirical PSFs choose them: local maxima more than a threshold above
/// the background, unsaturated, with no brighter pixel nor other peak within an isolation radius, no NaN or saturated
/// pixel in their box, not single sharp spikes (hot pixels, cosmic rays), far enough from the edges for their box.
/// </summary>
internal static class PsfStarCandidates
{
    /// <summary>
    /// 0-based peak pixels, brightest first. image: row-major; backgroundLevel: the level the threshold
    /// (threshold = level + DetectionSigma σ) and the spike test are taken from; saturationLevel on the image's scale.
    /// </summary>
    public static List<(int X, int Y)> Find(ReadOnlySpan<float> image, int width, int height, double backgroundLevel, double sigma,
        double saturationLevel, EffectivePsfOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (detectionSigma, isolationRadius, stampSize, minNeighbourFraction) = (options.DetectionSigma, options.IsolationRadius, options.StampSize, options.MinNeighbourFraction);
        var threshold = backgroundLevel + detectionSigma * sigma;
        var r = isolationRadius;
        var half = Math.Max(r, stampSize / 2 + 3);
        var margin = half + 1;
        var peaks = new List<(int X, int Y)>();
        var isPeak = new bool[image.Length];
        for (var y = 1; y < height - 1; y++)
        {
            for (var x = 1; x < width - 1; x++)
            {
                var v = image[y * width + x];
                if (!(v > threshold) || !IsLocalMaximum(image, width, x, y, v)) continue;
                isPeak[y * width + x] = true;
                peaks.Add((x, y));
            }
        }
        var usable = new List<(int X, int Y, float Peak)>();
        foreach (var (x, y) in peaks)
        {
            if (x < margin || y < margin || x >= width - margin || y >= height - margin) continue;
            var peak = image[y * width + x];
            if (peak >= saturationLevel) continue;
            // Hot pixels and cosmic-ray hits are single sharp spikes; even a 1 px FWHM star puts over a tenth of its
            // peak into its brightest edge neighbour (a pixel-integrated Gaussian centred anywhere in the pixel).
            var brightestNeighbour = Math.Max(Math.Max(image[y * width + x - 1], image[y * width + x + 1]),
                Math.Max(image[(y - 1) * width + x], image[(y + 1) * width + x]));
            if (!(brightestNeighbour - backgroundLevel >= minNeighbourFraction * (peak - backgroundLevel))) continue;
            if (IsIsolated(image, width, x, y, peak, half, r, saturationLevel, isPeak)) usable.Add((x, y, peak));
        }
        return usable.OrderByDescending(c => c.Peak).Select(c => (c.X, c.Y)).ToList();
    }

    private static bool IsIsolated(ReadOnlySpan<float> image, int width, int x, int y, float peak, int half, int r, double saturation, bool[] isPeak)
    {
        for (var j = y - half; j <= y + half; j++)
        {
            for (var i = x - half; i <= x + half; i++)
            {
                if (i == x && j == y) continue;
                var v = image[j * width + i];
                var inIsolation = Math.Abs(i - x) <= r && Math.Abs(j - y) <= r;
                if (float.IsNaN(v) || v >= saturation || (inIsolation && (v > peak || isPeak[j * width + i]))) return false;
            }
        }
        return true;
    }

    /// <summary>Greater than the 8 neighbours; ties go to the first pixel in raster order.</summary>
    private static bool IsLocalMaximum(ReadOnlySpan<float> image, int width, int x, int y, float v)
    {
        for (var dy = -1; dy <= 1; dy++)
        {
            for (var dx = -1; dx <= 1; dx++)
            {
                if (dx == 0 && dy == 0) continue;
                var n = image[(y + dy) * width + x + dx];
                var before = dy < 0 || (dy == 0 && dx < 0);
                if (n > v || (before && n == v)) return false;
            }
        }
        return true;
    }
}
