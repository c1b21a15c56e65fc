namespace Rapid.Cli.Bench;

/// <summary>Sigma-clipped mean and rms of S_corr (sigma) over the pixels used, and how many were used.</summary>
public sealed record ScoreStatistics(double Mean, double Rms, long Pixels);

/// <summary>
/// S_corr away from sources: finite (unmasked) pixels farther than a radius from every given position (detections and
/// true changing objects), then iterated 4-sigma clipping. A 4-sigma clip of a unit Gaussian lowers its rms by less than
/// 0.1 %, so the rms needs no correction, while residuals of bright stars still drop out.
/// </summary>
public static class ScoreImageStatistics
{
    public const double ClipSigma = 4;

    /// <param name="avoid">1-based FITS pixel positions to keep away from.</param>
    /// <param name="radiusPixels">How far from each position pixels are left out.</param>
    public static ScoreStatistics Measure(float[] scoreCorrected, int width, int height, IEnumerable<(double X, double Y)> avoid, double radiusPixels)
    {
        var excluded = new bool[scoreCorrected.Length];
        var r = (int)Math.Ceiling(radiusPixels);
        foreach (var (x, y) in avoid)
        {
            var (cx, cy) = (x - 1, y - 1);
            for (var j = Math.Max(0, (int)cy - r); j <= Math.Min(height - 1, (int)cy + r + 1); j++)
                for (var i = Math.Max(0, (int)cx - r); i <= Math.Min(width - 1, (int)cx + r + 1); i++)
                    if ((i - cx) * (i - cx) + (j - cy) * (j - cy) <= radiusPixels * radiusPixels) excluded[j * width + i] = true;
        }

        double mean = 0, rms = double.PositiveInfinity;
        long used = 0;
        for (var iteration = 0; iteration < 20; iteration++)
        {
            var (lo, hi) = (mean - ClipSigma * rms, mean + ClipSigma * rms);
            double sum = 0, sum2 = 0;
            long n = 0;
            for (var k = 0; k < scoreCorrected.Length; k++)
            {
                var v = scoreCorrected[k];
                if (excluded[k] || !float.IsFinite(v) || v < lo || v > hi) continue;
                sum += v;
                sum2 += v * (double)v;
                n++;
            }
            if (n < 2) return new ScoreStatistics(double.NaN, double.NaN, n);
            var (newMean, newRms) = (sum / n, Math.Sqrt(Math.Max(0, sum2 / n - sum / n * (sum / n))));
            var converged = n == used;
            (mean, rms, used) = (newMean, newRms, n);
            if (converged) break;
        }
        return new ScoreStatistics(mean, rms, used);
    }
}
