namespace Rapid.Cli.Bench;

/// <summary>
/// Scores a <c>rapid diff</c> out directory made from simulated images against the simulator's truth: the truth files
/// beside the science and reference images give the true changing sources (<see cref="DifferenceTruth"/>), the products
/// their noise (<see cref="PsfFluxNoise"/>), the detections and S_corr.
/// </summary>
public static class DifferenceQualityScoring
{
    /// <summary>S_corr statistics leave out this many pixels around detections and true changing sources (a few Roman PSF FWHMs of ~2 px).</summary>
    public const double ScoreExclusionRadiusPixels = 8;

    public static DifferenceQualityFigures Score(string outDirectory, string scienceImage, IReadOnlyList<string> referenceImages)
    {
        var science = EpochTruth.Read(EpochTruth.PathFor(scienceImage));
        var references = referenceImages.Select(r => EpochTruth.Read(EpochTruth.PathFor(r))).ToList();
        var products = DifferenceProducts.Read(outDirectory);
        var truth = DifferenceTruth.Changing(science, references)
            .Select(t => t with
            {
                NoiseDnPerSecond = PsfFluxNoise.At(products, t.X, t.Y),
                PeakScoreSigma = products.PeakScoreNear(t.X, t.Y, Math.Sign(t.DifferenceFluxDnPerSecond)),
            }).ToList();
        var unmasked = products.ScoreCorrected.LongCount(float.IsFinite);
        var score = ScoreImageStatistics.Measure(products.ScoreCorrected, products.Width, products.Height,
            products.Detections.Select(d => (d.X, d.Y)).Concat(truth.Select(t => (t.X, t.Y))), ScoreExclusionRadiusPixels);
        return DifferenceQuality.Measure(truth, products.Detections, DifferenceTruth.Constant(science), unmasked, score, products.DetectionThresholdSigma,
            products.ZeroPointMag, products.PixelScaleArcsec, PsfFluxNoise.Background(products));
    }
}
