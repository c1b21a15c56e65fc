namespace Rapid.Pipeline.Imaging;

/// <summary>A bright star measured on a background-subtracted image. X, Y: 0-based array coordinates.</summary>
public sealed record MeasuredStar(double X, double Y, double Flux, double FluxError, double Fwhm)
{
    /// <summary>The star's plain wide-aperture flux when <see cref="Flux"/> is a narrower measurement (NaN otherwise), for an aperture correction.</summary>
    public double WideFlux { get; init; } = double.NaN;
    /// <summary>The 1-sigma error of <see cref="WideFlux"/>.</summary>
    public double WideFluxError { get; init; } = double.NaN;
    /// <summary>The noise covariance of <see cref="Flux"/> and <see cref="WideFlux"/> (they share pixels).</summary>
    public double WideCovariance { get; init; }
}

/// <summary>
/// Finds bright, isolated stars and measures centroid, aperture flux and FWHM (from second moments,
/// FWHM = 2.3548·σ for a Gaussian) — the inputs of flux matching, astrometric residuals and the
/// FWHM statistics the manifest reports.
/// </summary>
public static class StarMeasurement
{
    public static IReadOnlyList<MeasuredStar> BrightStars(
        float[] image, float[] variance, int width, int height, double minSignificance = 20, double apertureRadius = 5, int maxStars = 500)
    {
        var significance = ImageArithmetic.Significance(image, variance);
        var peaks = new PeakDetector(minSignificance, minPixels: 3, peakRadius: 4)
            .Detect(significance, image, width, height, includeNegative: false)
            .OrderByDescending(d => d.PeakSignificance)
            .ToList();
        var isolation = 2.5 * apertureRadius;
        var stars = new List<MeasuredStar>();
        foreach (var p in peaks)
        {
            if (p.X < apertureRadius + 1 || p.Y < apertureRadius + 1 || p.X > width - apertureRadius - 2 || p.Y > height - apertureRadius - 2) continue;
            // Reject blends: another detected peak within the isolation radius.
            if (peaks.Any(q => !ReferenceEquals(q, p) && Math.Abs(q.X - p.X) < isolation && Math.Abs(q.Y - p.Y) < isolation)) continue;
            var (x, y, fwhm) = AdaptiveMoments(image, width, p.X, p.Y, apertureRadius);
            if (!double.IsFinite(fwhm) || Math.Abs(x - p.X) > 1.5 || Math.Abs(y - p.Y) > 1.5) continue;
            var flux = AperturePhotometry.Measure(image, variance, width, height, x, y, apertureRadius);
            if (flux.Flags != 0 || !(flux.Flux > 0)) continue;
            stars.Add(new MeasuredStar(x, y, flux.Flux, flux.FluxError, fwhm));
            if (stars.Count >= maxStars) break;
        }
        return stars;
    }

    /// <summary>Median FWHM (pixels) of the stars, NaN when there are none.</summary>
    public static double MedianFwhm(IReadOnlyList<MeasuredStar> stars) =>
        stars.Count == 0 ? double.NaN : RobustStatistics.Median(stars.Select(s => (float)s.Fwhm).ToArray());

    /// <summary>The adaptive-moment FWHM (pixels) of the source at (x, y) (0-based), NaN when it cannot be measured.</summary>
    public static double MomentFwhm(float[] image, int width, int height, double x, double y, double apertureRadius = 5)
    {
        if (image.Length != (long)width * height) throw new ArgumentException($"the image has {image.Length} values, not {width} x {height}");
        var (_, _, fwhm) = AdaptiveMoments(image, width, x, y, apertureRadius);
        return fwhm;
    }

    // Adaptive (Gaussian-weighted) second moments, as in Bernstein & Jarvis (2002): for a Gaussian star of
    // width σ and a weight of width w the per-axis moment is M = σ²w²/(σ² + w²), so σ² = M·w²/(w² − M);
    // iterating w = σ converges. Unlike plain moments this is not biased by noise far from the star.
    // The centre is refined on the way (a windowed centroid, like SExtractor's XWIN_IMAGE).
    private static (double X, double Y, double Fwhm) AdaptiveMoments(float[] image, int width, double cx, double cy, double radius)
    {
        var height = image.Length / width;
        var w2 = 4.0;
        var sigma2 = double.NaN;
        for (var iteration = 0; iteration < 40; iteration++)
        {
            var r = Math.Min(4 * Math.Sqrt(w2), 4 * radius);
            double sum = 0, srr = 0, sx = 0, sy = 0;
            for (var y = Math.Max(0, (int)Math.Floor(cy - r)); y <= Math.Min(height - 1, (int)Math.Ceiling(cy + r)); y++)
                for (var x = Math.Max(0, (int)Math.Floor(cx - r)); x <= Math.Min(width - 1, (int)Math.Ceiling(cx + r)); x++)
                {
                    var v = image[y * width + x];
                    if (!float.IsFinite(v)) continue;
                    double dx = x - cx, dy = y - cy, rr = dx * dx + dy * dy;
                    var weight = Math.Exp(-rr / (2 * w2));
                    sum += weight * v;
                    srr += weight * v * rr;
                    sx += weight * v * dx;
                    sy += weight * v * dy;
                }
            if (sum <= 0) return (cx, cy, double.NaN);
            var m = 0.5 * srr / sum;
            if (m <= 0 || m >= w2) return (cx, cy, double.NaN);
            // The windowed centroid's fixed point is the star's centre (its offset shrinks each iteration).
            double shiftX = sx / sum, shiftY = sy / sum;
            cx += shiftX;
            cy += shiftY;
            var next = m * w2 / (w2 - m);
            var converged = Math.Abs(next - w2) < 1e-4 * w2 && Math.Abs(shiftX) < 1e-3 && Math.Abs(shiftY) < 1e-3;
            sigma2 = next;
            w2 = next;
            if (converged) break;
        }
        // Pixelisation adds 1/12 px² to each axis' variance.
        return (cx, cy, sigma2 > 1.0 / 12 ? 2.3548 * Math.Sqrt(sigma2 - 1.0 / 12) : double.NaN);
    }
}
