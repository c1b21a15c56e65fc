namespace Rapid.Pipeline.Psf;

/// <summary>
/// An empirical PSF from the bright, isolated, unsaturated stars of an image, in the manner of DAOPHOT/PSFEx's
/// empirical stamps: candidates are local maxima above DetectionSigma, with no brighter pixel nor other peak within
/// IsolationRadius, away from edges and NaN, peak below saturation; each is centred on its windowed centroid,
/// shifted onto a common centre by Lanczos-3 interpolation, its local sky (outer ring median) subtracted, scaled by its core flux; stars whose half-maximum FWHM is an outlier
/// (binaries, galaxies, cosmic rays) are dropped; the per-pixel median of the rest, normalised to sum 1, is the PSF,
/// its wings beyond a few FWHM replaced by their azimuthal average (<see cref="RadialWings"/>).
/// Fallback (a warning, see <see cref="PsfModel.IsFallback"/>): with fewer than MinimumStars usable stars, a circular
/// Gaussian with the median FWHM of the stars found, or DefaultFwhm when there are none.
/// </summary>
public sealed class PsfEstimator
{
    private readonly PsfEstimatorOptions _options;

    public PsfEstimator(PsfEstimatorOptions? options = null)
    {
        _options = options ?? new PsfEstimatorOptions();
        _options.Validate();
    }

    /// <summary>
    /// image: row-major (index = y * width + x), background already subtracted, NaN for bad pixels, any flux unit
    /// (DN/s in the pipeline); noiseSigma: the background noise in the same unit; saturationLevel: the level at or
    /// above which a pixel is saturated, on the same background-subtracted scale (PositiveInfinity if unknown).
    /// </summary>
    public PsfModel Estimate(float[] image, int width, int height, double noiseSigma, double saturationLevel)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Length != (long)width * height) throw new ArgumentException($"the image has {image.Length} values, not {width} x {height}");
        if (!(noiseSigma > 0)) throw new ArgumentException($"the noise sigma must be positive, not {noiseSigma}");
        var size = _options.StampSize;
        var stamps = new List<double[]>();
        var fwhms = new List<double>();
        // The candidates' box (stamp / 2 + 3 px a side) is clean; LanczosCut refuses its own box if it leaves the image or holds NaN.
        foreach (var (x, y) in PsfStarCandidates.Find(image, width, height, 0, noiseSigma, saturationLevel,
                     _options.DetectionSigma, _options.IsolationRadius, _options.StampSize, _options.MinNeighbourFraction))
        {
            if (stamps.Count >= _options.MaximumStars) break;
            var centre = PsfShape.WindowedCentroid(image, width, height, x, y, _options.DefaultFwhm);
            if (centre is not { } c || Math.Abs(c.X - x) > 1 || Math.Abs(c.Y - y) > 1) continue;
            var stamp = LanczosCut(image, width, height, c.X, c.Y, size);
            if (stamp is null) continue;
            // A local sky per star, the median of the stamp's outermost 2 px ring, as DAOPHOT's PSF stars take theirs
            // from an annulus: the mesh background runs below the sky among many faint sources, by a small fraction of
            // the noise per pixel, which over the 35^2 stamp was 2-3 % of a star's flux at 4088^2 (the science PSF
            // held 97.2 % of its light within 5 px, the stars themselves 98.9 %). A Moffat beta = 2.5 PSF of
            // FWHM 1.7 px has 2e-6 of its light per pixel there, so this removes at most 0.3 % of true wing.
            var sky = OuterRingMedian(stamp, size);
            if (double.IsNaN(sky)) continue;
            // Each star's scale from its core (within CoreRadius), which the faint neighbours in its wings leave alone.
            double sum = 0;
            for (var i = 0; i < stamp.Length; i++)
            {
                stamp[i] -= sky;
                if (InCore(i, size)) sum += stamp[i];
            }
            if (!(sum > 0)) continue; // NaN (a tap outside or on a bad pixel) or no flux
            for (var i = 0; i < stamp.Length; i++) stamp[i] /= sum;
            var fwhm = PsfShape.HalfMaximumFwhm(stamp, size);
            if (!double.IsFinite(fwhm)) continue;
            stamps.Add(stamp);
            fwhms.Add(fwhm);
        }
        var keep = TypicalWidths(fwhms);
        if (keep.Count < _options.MinimumStars)
        {
            return keep.Count > 0
                ? PsfModel.Gaussian(Median(keep.Select(i => fwhms[i]).ToArray()), size, PsfMethod.GaussianFromStars, keep.Count)
                : PsfModel.Gaussian(_options.DefaultFwhm, size, PsfMethod.GaussianFromDefault);
        }
        var stack = new double[size * size];
        var values = new double[keep.Count];
        for (var p = 0; p < stack.Length; p++)
        {
            for (var k = 0; k < keep.Count; k++) values[k] = stamps[keep[k]][p];
            stack[p] = Median(values);
        }
        var coreFwhm = PsfShape.HalfMaximumFwhm(new PsfModel(stack, size, 1, PsfMethod.Empirical, keep.Count).Stamp, size);
        RadialWings.Smooth(stack, size, _options.WingRadiusInFwhm * (double.IsFinite(coreFwhm) ? coreFwhm : _options.DefaultFwhm));
        var normalised = new PsfModel(stack, size, 1, PsfMethod.Empirical, keep.Count);
        return new PsfModel(stack, size, PsfShape.HalfMaximumFwhm(normalised.Stamp, size), PsfMethod.Empirical, keep.Count);
    }

    /// <summary>The same with a constant background level subtracted first (saturationLevel on the raw scale).</summary>
    public PsfModel Estimate(float[] image, int width, int height, double backgroundLevel, double noiseSigma, double saturationLevel)
    {
        ArgumentNullException.ThrowIfNull(image);
        var subtracted = new float[image.Length];
        for (var i = 0; i < image.Length; i++) subtracted[i] = (float)(image[i] - backgroundLevel);
        return Estimate(subtracted, width, height, noiseSigma, saturationLevel - backgroundLevel);
    }

    /// <summary>Indices of the stars whose FWHM lies within max(3 robust sigma, 10 %) of the median.</summary>
    private static List<int> TypicalWidths(List<double> fwhms)
    {
        if (fwhms.Count == 0) return [];
        var median = Median(fwhms.ToArray());
        var mad = Median(fwhms.Select(f => Math.Abs(f - median)).ToArray());
        var tolerance = Math.Max(3 * 1.4826 * mad, 0.1 * median);
        return Enumerable.Range(0, fwhms.Count).Where(i => Math.Abs(fwhms[i] - median) <= tolerance).ToList();
    }

    /// <summary>
    /// A size x size stamp whose middle pixel samples the image at (x, y) (0-based), interpolated with Lanczos-3
    /// (<see cref="StampInterpolation"/>, the kernel the reference is resampled with); null when the box leaves the
    /// image or holds NaN. Not the Fourier phase shift: with it, the science PSF at 4088^2 (H158, stars of 1.7 px FWHM,
    /// pixel-integrated Moffat in the simulator) held 2 % too much light at 3-7 px (0.969 of the light within 15 px lay
    /// within 5 px, against the stars' own 0.989), which ZOGY printed as a negative halo around every bright star (S_corr
    /// -1.3 on average at 4-8 px, down to -9): 35 false detections in 16.7 Mpx, 16 with this cut (the rest at the edges).
    /// The likely cause is the phase shift's sinc ringing on aliased stars; it is not reproduced by point-sampled
    /// Moffat stars of 1.4 px on a clean grid (both cuts keep the light within 5 px to 0.1 % there), so it is measured
    /// on the bench only.
    /// </summary>
    private static double[]? LanczosCut(float[] image, int width, int height, double x, double y, int size)
    {
        var box = size + 8;
        var (ix, iy) = ((int)Math.Round(x), (int)Math.Round(y));
        if (ImageBox.Copy(image, width, height, ix, iy, box) is not { } values) return null;
        var result = new double[size * size];
        var c = size / 2;
        for (var j = 0; j < size; j++)
            for (var i = 0; i < size; i++)
                result[j * size + i] = StampInterpolation.At(values, box, x - (ix - box / 2) + i - c, y - (iy - box / 2) + j - c);
        return result;
    }

    /// <summary>Radius (pixels) of the core that scales each star's stamp before the per-pixel median.</summary>
    private const double CoreRadius = 5;

    private static bool InCore(int index, int size)
    {
        var (dx, dy) = (index % size - size / 2, index / size - size / 2);
        return dx * dx + dy * dy <= CoreRadius * CoreRadius;
    }

    /// <summary>Median of the stamp's pixels at radius c - 2 to c (c = size / 2) from the centre; NaN if any is NaN.</summary>
    private static double OuterRingMedian(double[] stamp, int size)
    {
        var c = size / 2;
        var ring = new List<double>();
        for (var j = 0; j < size; j++)
            for (var i = 0; i < size; i++)
            {
                var r = Math.Sqrt((i - c) * (i - c) + (j - c) * (j - c));
                if (r < c - 2 || r > c) continue;
                if (!double.IsFinite(stamp[j * size + i])) return double.NaN;
                ring.Add(stamp[j * size + i]);
            }
        return ring.Count == 0 ? 0 : Median(ring.ToArray());
    }

    private static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        var n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }
}
