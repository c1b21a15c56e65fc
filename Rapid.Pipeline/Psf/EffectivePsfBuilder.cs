namespace Rapid.Pipeline.Psf;

/// <summary>
/// Builds the <see cref="EffectivePsf"/> of an image from its bright, isolated, unsaturated stars by the iteration of
/// Anderson &amp; King (2000, PASP 112, 1360, sec. 3-4), as photutils' EPSFBuilder implements it:
/// <list type="number">
/// <item>every pixel of every star, divided by the star's flux, samples ψ at its offset from the star's centre; the
/// residuals from the current ψ are sorted into the supersampled cells they fall in and each cell's sigma-clipped
/// median is added to ψ (empty cells take their neighbours' mean);</item>
/// <item>ψ is smoothed with the quartic kernel (photutils' "quartic", a 5 x 5 local fourth-degree polynomial fit),
/// recentred on its windowed centroid (SExtractor's XWIN) and normalised to unit flux;</item>
/// <item>each star's flux and centre are fitted with ψ at its own sub-pixel phase (least squares within FitRadius),
/// and stars whose light within a few FWHM departs from the fitted ψ beyond the typical star's (the half-sample mode,
/// Bickel &amp; Frühwirth 2006, CSDA 50, 3500) by more than ExcessTolerance are dropped as galaxies or blends;</item>
/// </list>
/// until no centre moves by more than CenterAccuracy. The iteration starts from the pixel-integrated Gaussian of the
/// stars' typical width (so the stacks hold residuals), smooths the residual when there are fewer than 4 stars per
/// phase cell (FewStarsSmoothing), and beyond the radius where the stars' wings sink into their noise continues ψ as a
/// power law fitted inside it (<see cref="ExtrapolateWings"/>). With enough stars a polynomial variation across the detector is
/// then fitted cell by cell to the residuals (clipped least squares in the stars' positions, as PSFEx's PSFVAR_DEGREES,
/// Bertin 2011), and the wings beyond a few FWHM are replaced by their azimuthal average (<see cref="PoolWings"/>).
/// With fewer than MinimumStars usable stars the result is a pixel-integrated Gaussian (a fallback, a warning).
/// </summary>
public sealed class EffectivePsfBuilder
{
    /// <summary>Radius (pixels) of the core that gives each star its first flux.</summary>
    private const double CoreRadius = 5;

    /// <summary>Iterations of the variation fit after the constant ePSF has converged.</summary>
    private const int VariationIterations = 3;

    /// <summary>
    /// The quartic smoothing kernel of photutils' EPSFBuilder (the centre weights of a least-squares fourth-degree
    /// polynomial fit to a 5 x 5 neighbourhood): it leaves polynomials of degree up to 4 unchanged and damps the
    /// sample-to-sample noise of the stacked residuals.
    /// </summary>
    private static readonly double[] QuarticKernel =
    [
        +0.041632, -0.080816, 0.078368, -0.080816, +0.041632,
        -0.080816, -0.019592, 0.200816, -0.019592, -0.080816,
        +0.078368, +0.200816, 0.441632, +0.200816, +0.078368,
        -0.080816, -0.019592, 0.200816, -0.019592, -0.080816,
        +0.041632, -0.080816, 0.078368, -0.080816, +0.041632,
    ];

    private readonly EffectivePsfOptions _options;

    public EffectivePsfBuilder(EffectivePsfOptions? options = null)
    {
        _options = options ?? new EffectivePsfOptions();
        _options.Validate();
    }

    public EffectivePsfOptions Options => _options;

    /// <summary>
    /// image: row-major (index = y * width + x), NaN for bad pixels, any flux unit (DN/s in the pipeline), with a
    /// smooth background of about <paramref name="backgroundLevel"/> (each star's own sky is measured around it);
    /// noiseSigma: the background noise; saturationLevel: the level at or above which a pixel is saturated, on the
    /// image's scale (PositiveInfinity if unknown).
    /// </summary>
    public EffectivePsf Build(float[] image, int width, int height, double noiseSigma, double saturationLevel, double backgroundLevel = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Length != (long)width * height) throw new ArgumentException($"the image has {image.Length} values, not {width} x {height}");
        if (!(noiseSigma > 0)) throw new ArgumentException($"the noise sigma must be positive, not {noiseSigma}");
        var stars = CutStars(image, width, height, noiseSigma, saturationLevel, backgroundLevel);
        var origin = ((width - 1) / 2.0, (height - 1) / 2.0, Math.Max(width, height) / 2.0);
        SelectStellarLocus(stars, VariationDegree(stars.Count), origin);
        if (stars.Count(x => x.Good) < _options.MinimumStars) return Fallback(stars);

        // Stage 1: the constant ePSF, iterated until the stars' fitted centres settle.
        var s = Oversampling(stars.Count(x => x.Good));
        var widths = stars.Where(x => x.Good).Select(x => x.Sigma).OrderBy(w => w).ToArray();
        var wingRadius = _options.WingRadiusInFwhm * widths[widths.Length / 2] / PsfShape.SigmaPerFwhm;
        var gridSize = (_options.StampSize * s + 1) | 1;
        // The iteration starts from the pixel-integrated Gaussian of the stars' typical fitted width, so that what it stacks
        // is the residual from that, small and smooth: with a few stars most of the s² phase cells hold no sample, and what
        // fills them is then interpolated residual, not interpolated PSF (DAOPHOT's hybrid of an analytic function and an
        // empirical correction table, Stetson 1987, PASP 99, 191).
        var psf = EffectivePsf.Gaussian(widths[widths.Length / 2] / PsfShape.SigmaPerFwhm, (gridSize - 1) / 2.0 / s, s, PsfMethod.Empirical, widths.Length);
        var terms = new List<double[]> { psf.Samples };
        for (var iteration = 1; iteration <= _options.MaxIterations; iteration++)
        {
            psf = Improve(stars, terms, 0, gridSize, s, origin, psf, wingRadius);
            var moved = FitStars(stars, psf);
            RestoreRingLight(stars, psf, wingRadius);
            if (moved < _options.CenterAccuracy) break;
        }
        if (stars.Count(x => x.Good) < _options.MinimumStars) return Fallback(stars);

        // Stage 2: stars whose light departs from their local ePSF are dropped (galaxies and blends the width cut left,
        // hits), and the variation across the detector is fitted when there are stars enough for it.
        var degree = VariationDegree(stars.Count(x => x.Good));
        while (terms.Count < EffectivePsf.TermCount(degree)) terms.Add(new double[gridSize * gridSize]);
        for (var iteration = 1; iteration <= _options.MaxIterations; iteration++)
        {
            var dropped = DropOutliers(stars, psf, noiseSigma);
            if (stars.Count(x => x.Good) < _options.MinimumStars) return Fallback(stars);
            if (!dropped && (degree == 0 || iteration > VariationIterations)) break;
            psf = Improve(stars, terms, degree, gridSize, s, origin, psf, wingRadius);
            FitStars(stars, psf);
            RestoreRingLight(stars, psf, wingRadius);
        }

        var used = stars.Count(x => x.Good);
        var fitted = stars.Where(x => x.Good).Select(x => new PsfStar(x.X, x.Y, x.Flux)).ToList();
        return new EffectivePsf(terms, gridSize, s, degree, origin, PsfMethod.Empirical, used, fitted) { WingLightErrorComputation = () => WingLightError(stars, psf, wingRadius) };
    }

    /// <summary>
    /// One update of the ePSF's terms from the good stars' residuals (cell medians for degree 0, clipped polynomials in
    /// position otherwise; in the wings, beyond wingRadius pixels, the medians of whole annuli, <see cref="PoolWings"/>),
    /// each term smoothed, the constant term recentred and normalised; returns the new ePSF.
    /// </summary>
    private EffectivePsf Improve(List<Star> stars, List<double[]> terms, int degree, int gridSize, int s, (double X, double Y, double Scale) origin, EffectivePsf psf, double wingRadius)
    {
        var good = stars.Where(x => x.Good).ToList();
        var bins = Bin(good, gridSize, s, psf);
        List<double[]> updates;
        if (degree == 0)
        {
            var update = new double[gridSize * gridSize];
            Parallel.For(0, update.Length, b => update[b] = bins.Count(b) == 0 ? double.NaN : OrderStatistics.ClippedMedian(bins.Values(b), _options.ClipSigma));
            updates = [update];
        }
        else
        {
            updates = FitVariation(bins, good, degree, origin, gridSize);
        }
        var wingErrors = PoolWings(bins, updates, gridSize, s, wingRadius);
        var blur = ResidualBlurPixels(good.Count, s) * s;
        for (var k = 0; k < updates.Count; k++)
        {
            FillEmpty(updates[k], gridSize);
            if (blur > 0) updates[k] = GaussianBlur(updates[k], gridSize, blur);
            for (var b = 0; b < updates[k].Length; b++) terms[k][b] += updates[k][b];
            terms[k] = Smooth(terms[k], gridSize);
        }
        ExtrapolateWings(terms, gridSize, s, wingRadius, wingErrors);
        terms[0] = Recentre(terms[0], gridSize, s);
        var constant = new EffectivePsf([terms[0]], gridSize, s, 0, origin, PsfMethod.Empirical, good.Count);
        terms[0] = constant.Samples;
        return degree == 0 ? constant : new EffectivePsf(terms.Take(EffectivePsf.TermCount(degree)).ToList(), gridSize, s, degree, origin, PsfMethod.Empirical, good.Count);
    }

    /// <summary>
    /// The standard error of the ePSF's light beyond wingRadius, as a fraction of the total. ψ is normalised to unit total,
    /// so whatever its wing holds too much or too little its core lacks or gains, and every flux fitted with the core
    /// moves by that fraction (Anderson and King 2000, PASP 112, 1360, sec. 3: the ePSF's normalisation fixes its
    /// photometric zero point). The wing is rebuilt on bootstrap resamplings of the stars (Efron 1979, Ann. Statist. 7, 1)
    /// as <see cref="PoolWings"/> and <see cref="ExtrapolateWings"/> build it: each 0.5 px annulus the resampled stars'
    /// pooled clipped median, continued from the first annulus below twice its standard error by the power law fitted
    /// inside; its light, times the annuli's areas, spreads by the error. The annuli's standard errors alone do not sum
    /// to it: each star's sky error is one offset in all its annuli (correlated), and beyond the cut ψ is the power law,
    /// which amplifies the measured annuli's errors. Measured (4 seeds of each independent set): 0.5-1.2 % on the
    /// gnuastro sets, whose ePSF's fitted flux of a true star is off by 0.25-1.9 %; 0.01-1.1 % on the others.
    /// </summary>
    private double WingLightError(List<Star> stars, EffectivePsf psf, double wingRadius)
    {
        const double width = 0.5;
        const int resamplings = 40;
        var size = _options.StampSize;
        var good = stars.Where(x => x.Good && x.Flux > 0).ToList();
        if (good.Count < 2) return 0;
        var annuli = (int)(Math.Sqrt(2) * size / 2 / width) + 2;
        // Per star and annulus, its residuals from ψ (light per pixel per unit flux) beyond wingRadius.
        var samples = new List<double>[good.Count, annuli];
        var models = new double[good.Count, annuli];
        Parallel.For(0, good.Count, k =>
        {
            var star = good[k];
            var model = new double[size * size];
            psf.RenderBox(star.X, star.Y, star.X0, star.Y0, size, size, model);
            for (var a = 0; a < annuli; a++) samples[k, a] = [];
            for (var j = 0; j < size; j++)
                for (var i = 0; i < size; i++)
                {
                    var (dx, dy) = (star.X0 + i - star.X, star.Y0 + j - star.Y);
                    var r = Math.Sqrt(dx * dx + dy * dy);
                    var v = star.Box[j * size + i];
                    if (!(r >= wingRadius) || !double.IsFinite(v)) continue;
                    samples[k, (int)(r / width)].Add(v / star.Flux - model[j * size + i]);
                    models[k, (int)(r / width)] += model[j * size + i];
                }
        });
        var area = Enumerable.Range(0, annuli).Select(a => Enumerable.Range(0, good.Count).Average(k => samples[k, a].Count)).ToArray();
        var counts = Enumerable.Range(0, annuli).Select(a => Enumerable.Range(0, good.Count).Sum(k => samples[k, a].Count)).ToArray();
        var psi = Enumerable.Range(0, annuli).Select(a => counts[a] == 0 ? 0 : Enumerable.Range(0, good.Count).Sum(k => models[k, a]) / counts[a]).ToArray();
        var (_, errors) = OrderStatistics.PooledMedians([.. Enumerable.Range(0, annuli).Select(a => Enumerable.Range(0, good.Count).SelectMany(k => samples[k, a]).ToArray())], _options.ClipSigma);
        var first = (int)Math.Ceiling(wingRadius / width);
        var draws = new int[resamplings][];
        var random = new Random(good.Count);
        for (var b = 0; b < resamplings; b++) draws[b] = Enumerable.Range(0, good.Count).Select(_ => random.Next(good.Count)).ToArray();
        var light = new double[resamplings];
        Parallel.For(0, resamplings, b =>
        {
            // ψ's annuli as this resampling would have pooled them, continued as ExtrapolateWings continues them: the
            // power law fitted to the annuli above twice their error, from the first below.
            var wing = new double[annuli];
            for (var a = 0; a < annuli; a++)
            {
                var pooled = draws[b].SelectMany(k => samples[k, a]).ToArray();
                wing[a] = pooled.Length > 0 ? psi[a] + OrderStatistics.ClippedMedian(pooled, _options.ClipSigma) : psi[a];
            }
            var (sx, sy, sxx, sxy, n) = (0.0, 0.0, 0.0, 0.0, 0);
            var cut = annuli;
            for (var a = first; a < annuli; a++)
            {
                if (counts[a] == 0 || double.IsNaN(errors[a])) continue;
                if (!(wing[a] > 2 * errors[a])) { cut = a; break; }
                var (x, y) = (Math.Log((a + 0.5) * width), Math.Log(wing[a]));
                (sx, sy, sxx, sxy, n) = (sx + x, sy + y, sxx + x * x, sxy + x * y, n + 1);
            }
            var slope = n >= 2 && n * sxx - sx * sx > 0 ? Math.Clamp((n * sxy - sx * sy) / (n * sxx - sx * sx), -8, -3) : -5;
            var intercept = n >= 1 ? (sy - slope * sx) / n : double.NegativeInfinity;
            double sum = 0;
            for (var a = 0; a < annuli; a++) sum += area[a] * (a < cut ? wing[a] - psi[a] : Math.Exp(intercept + slope * Math.Log((a + 0.5) * width)) - psi[a]);
            light[b] = sum;
        });
        var mean = light.Average();
        return Math.Sqrt(light.Sum(l => (l - mean) * (l - mean)) / (resamplings - 1));
    }

    /// <summary>
    /// The stellar locus: each candidate's pixel-integrated Gaussian width (<see cref="GaussianStarFit"/>, independent of
    /// its pixel phase) is compared with the typical star's at its position (the half-sample mode of the widths, then a
    /// polynomial of the given degree in position fitted to the stars kept); candidates wider or narrower by more than
    /// WidthTolerance (or 3 robust sigma of the stars' own scatter, if larger) are galaxies, blends or artefacts and
    /// are dropped, as PSFEx keeps only its sources of typical FWHM (SAMPLE_FWHMRANGE, SAMPLE_VARIABILITY).
    /// The fits also give better first centres than the windowed centroids.
    /// </summary>
    private void SelectStellarLocus(List<Star> stars, int degree, (double X, double Y, double Scale) origin)
    {
        var first = _options.DefaultFwhm * PsfShape.SigmaPerFwhm;
        Parallel.ForEach(stars, star =>
        {
            var fit = GaussianStarFit.Fit(star.Box, _options.StampSize, star.X - star.X0, star.Y - star.Y0, first, _options.FitRadius);
            if (fit is not { } f) { star.Good = false; return; }
            (star.X, star.Y, star.Sigma) = (star.X0 + f.X, star.Y0 + f.Y, f.Sigma);
        });
        var fitted = stars.Where(x => x.Good).ToList();
        if (fitted.Count == 0) return;
        var typical = StellarWidth(fitted.Select(x => x.Sigma).ToArray(), _options.WidthTolerance);
        var keep = fitted.Select(x => Math.Abs(x.Sigma / typical - 1) <= 0.3).ToArray();
        var terms = EffectivePsf.TermCount(degree);
        var positions = fitted.Select(x =>
        {
            var p = new double[terms];
            EffectivePsf.Monomials((x.X - origin.X) / origin.Scale, (x.Y - origin.Y) / origin.Scale, degree, p);
            return p;
        }).ToArray();
        var coefficients = new double[terms];
        coefficients[0] = typical;
        for (var round = 0; round < 4; round++)
        {
            var kept = Enumerable.Range(0, fitted.Count).Where(k => keep[k]).ToArray();
            if (kept.Length >= 3 * terms)
            {
                var a = new double[terms * terms];
                var b = new double[terms];
                foreach (var k in kept)
                    for (var r = 0; r < terms; r++)
                    {
                        b[r] += positions[k][r] * fitted[k].Sigma;
                        for (var q = 0; q < terms; q++) a[r * terms + q] += positions[k][r] * positions[k][q];
                    }
                if (LinearSystem.SolveSymmetric(a, b, terms)) coefficients = b;
            }
            double Model(int k) => positions[k].Select((p, t) => p * coefficients[t]).Sum();
            var excess = Enumerable.Range(0, fitted.Count).Select(k => fitted[k].Sigma / Model(k) - 1).ToArray();
            var deviations = kept.Select(k => Math.Abs(excess[k])).OrderBy(v => v).ToArray();
            var scatter = deviations.Length > 0 ? 1.4826 * deviations[deviations.Length / 2] : 0;
            var limit = Math.Max(_options.WidthTolerance, 3 * scatter);
            keep = excess.Select(e => Math.Abs(e) <= limit).ToArray();
        }
        for (var k = 0; k < fitted.Count; k++) if (!keep[k]) fitted[k].Good = false;
    }

    /// <summary>The highest oversampling (up to the setting) that leaves MinStarsPerPhase stars per sub-pixel phase cell.</summary>
    private int Oversampling(int stars)
    {
        var s = _options.Oversampling;
        while (s > 1 && stars < _options.MinStarsPerPhase * s * s) s--;
        return s;
    }

    /// <summary>The highest degree (up to the setting) with StarsPerVariationTerm stars per polynomial term.</summary>
    private int VariationDegree(int stars)
    {
        var d = _options.MaxVariationDegree;
        while (d > 0 && stars < _options.StarsPerVariationTerm * EffectivePsf.TermCount(d)) d--;
        return d;
    }

    /// <summary>A star's box (sky-subtracted, row-major StampSize²), its origin in the image, centre (0-based image pixels) and flux.</summary>
    private sealed class Star(double[] box, int x0, int y0, double x, double y, double flux)
    {
        public double[] Box { get; } = box;
        public int X0 { get; } = x0;
        public int Y0 { get; } = y0;
        public double X { get; set; } = x;
        public double Y { get; set; } = y;
        public double Flux { get; set; } = flux;
        /// <summary>The star's own light per pixel added back to its box after its sky was taken from its outer ring.</summary>
        public double RingLight { get; set; }
        public bool Good { get; set; } = true;
        public double Excess { get; set; }
        public double ExcessSigma { get; set; }
        /// <summary>Width (pixels) of the pixel-integrated Gaussian fitted to the star.</summary>
        public double Sigma { get; set; } = double.NaN;
    }

    private List<Star> CutStars(float[] image, int width, int height, double sigma, double saturation, double level)
    {
        var size = _options.StampSize;
        var c = size / 2;
        var stars = new List<Star>();
        var rings = new List<AnnulusSkyLevels>();
        foreach (var (px, py) in PsfStarCandidates.Find(image, width, height, level, sigma, saturation, _options))
        {
            if (stars.Count >= _options.MaximumStars) break;
            if (ImageBox.Copy(image, width, height, px, py, size) is not { } box) continue;
            var ring = OuterRingSky(box, size);
            var sky = ring.Median;
            var values = new float[box.Length];
            for (var i = 0; i < box.Length; i++) values[i] = (float)(box[i] -= sky);
            // The first centre: the windowed centroid (biased towards the pixel centre for undersampled stars; the fits
            // with the ePSF then correct it); the first flux: the core's light.
            var centre = PsfShape.WindowedCentroid(values, size, size, c, c, _options.DefaultFwhm);
            if (centre is not { } cc || Math.Abs(cc.X - c) > 1 || Math.Abs(cc.Y - c) > 1) continue;
            double flux = 0;
            for (var j = 0; j < size; j++)
                for (var i = 0; i < size; i++)
                    if ((i - cc.X) * (i - cc.X) + (j - cc.Y) * (j - cc.Y) <= CoreRadius * CoreRadius) flux += box[j * size + i];
            if (!(flux > 0)) continue;
            stars.Add(new Star(box, px - c, py - c, px - c + cc.X, py - c + cc.Y, flux));
            rings.Add(ring);
        }
        // Each star's sky is its outer ring's clipped median (radius c − 2 to c, beyond the isolation radius), or in a
        // crowded field its ring's mode (AnnulusSky). The plain median counted part of the neighbours' light in the rings
        // as sky and cut the stars' wings down (GNU Astronomy Utilities' bench set, FWHM 2.8 px: the ePSF's light at
        // 6-10 px 15 % low, every flux it normalised 0.9 % low; clipped, 0.04 % low). Where neighbours crowd the rings
        // their faint wings lie under the clipping too (1500-3000 neighbours per 10^6 px: fluxes 1.5-3.5 % low), and only
        // the mode removes them; but it is noisier, and with the ~10 faint stars of a 1024² image it moved the fluxes by
        // 2 %. So the mode is taken only where the rings' skew is significant (AnnulusSky.IsCrowded).
        if (AnnulusSky.IsCrowded(rings))
            for (var k = 0; k < stars.Count; k++)
            {
                var skew = rings[k].Mode - rings[k].Median;
                if (!double.IsFinite(skew)) continue;
                var box = stars[k].Box;
                for (var i = 0; i < box.Length; i++) box[i] -= skew;
            }
        return stars;
    }

    /// <summary>The Gaussian fallback: the median FWHM of the stars' fitted Gaussians, or the default FWHM without any.</summary>
    private EffectivePsf Fallback(List<Star> stars)
    {
        var radius = _options.StampSize / 2;
        var widths = stars.Select(x => x.Sigma / PsfShape.SigmaPerFwhm).Where(double.IsFinite).OrderBy(w => w).ToArray();
        return widths.Length > 0
            ? EffectivePsf.Gaussian(widths[widths.Length / 2], radius, _options.Oversampling, PsfMethod.GaussianFromStars, widths.Length)
            : EffectivePsf.Gaussian(_options.DefaultFwhm, radius, _options.Oversampling, PsfMethod.GaussianFromDefault);
    }

    /// <summary>The residual samples of every star, grouped by the ePSF cell they fall in (counting sort).</summary>
    private sealed class Bins(int[] start, double[] values, int[] starIndex)
    {
        public int Count(int cell) => start[cell + 1] - start[cell];
        public Span<double> Values(int cell) => values.AsSpan(start[cell], Count(cell));
        public ReadOnlySpan<int> Stars(int cell) => starIndex.AsSpan(start[cell], Count(cell));
    }

    /// <summary>
    /// Sorts (pixel / flux − ψ(offset)) of every pixel of every star into the cell nearest its offset, as photutils'
    /// _resample_residual does (ψ = 0 before the first estimate).
    /// </summary>
    private Bins Bin(List<Star> stars, int gridSize, int s, EffectivePsf psf)
    {
        var size = _options.StampSize;
        var c = (gridSize - 1) / 2.0;
        var cells = new int[stars.Count * size * size];
        var residuals = new double[cells.Length];
        var counts = new int[gridSize * gridSize + 1];
        Parallel.For(0, stars.Count, k =>
        {
            var star = stars[k];
            var model = new double[size * size];
            psf.RenderBox(star.X, star.Y, star.X0, star.Y0, size, size, model);
            for (var j = 0; j < size; j++)
            {
                for (var i = 0; i < size; i++)
                {
                    var n = (k * size + j) * size + i;
                    var (dx, dy) = (star.X0 + i - star.X, star.Y0 + j - star.Y);
                    var (u, v) = ((int)Math.Round(c + s * dx), (int)Math.Round(c + s * dy));
                    if (u < 0 || v < 0 || u >= gridSize || v >= gridSize) { cells[n] = -1; continue; }
                    cells[n] = v * gridSize + u;
                    residuals[n] = star.Box[j * size + i] / star.Flux - model[j * size + i];
                }
            }
        });
        foreach (var cell in cells) if (cell >= 0) counts[cell + 1]++;
        for (var b = 1; b < counts.Length; b++) counts[b] += counts[b - 1];
        var start = (int[])counts.Clone();
        var values = new double[start[^1]];
        var starIndex = new int[values.Length];
        var next = (int[])counts.Clone();
        for (var n = 0; n < cells.Length; n++)
        {
            if (cells[n] < 0) continue;
            var at = next[cells[n]]++;
            values[at] = residuals[n];
            starIndex[at] = n / (size * size);
        }
        return new Bins(start, values, starIndex);
    }

    /// <summary>
    /// Beyond a few FWHM an ePSF cell holds a handful of samples (one star in s² falls in it), too few for the clipped
    /// median to reject a neighbour in a star's box or to beat the noise, while the profile there no longer changes
    /// within a pixel. There every sample of an annulus 0.5 px wide is pooled (all stars' light at that radius) and
    /// the annulus' clipped median replaces the cells' own (blended over 1 px from wingRadius), as the original RAPID
    /// radially averages its PSFs' wings (ZOGY prints a stack's wing noise, times each star's flux, around every star); variation terms are not fitted there.
    /// </summary>
    /// <returns>Per annulus (0.5 px wide, from the centre), the standard error of its pooled median (NaN where nothing was pooled).</returns>
    private double[] PoolWings(Bins bins, List<double[]> updates, int gridSize, int s, double wingRadius)
    {
        const double width = 0.5;
        var c = (gridSize - 1) / 2.0;
        double Radius(int cell) => Math.Sqrt((cell % gridSize - c) * (cell % gridSize - c) + (cell / gridSize - c) * (cell / gridSize - c)) / s;
        var annuli = new List<double>[(int)(Math.Sqrt(2) * c / s / width) + 2];
        for (var k = 0; k < annuli.Length; k++) annuli[k] = [];
        for (var cell = 0; cell < gridSize * gridSize; cell++)
        {
            var r = Radius(cell);
            if (r >= wingRadius - width) foreach (var v in bins.Values(cell)) annuli[(int)(r / width)].Add(v);
        }
        var (medians, errors) = OrderStatistics.PooledMedians([.. annuli.Select(a => a.ToArray())], _options.ClipSigma);
        double Profile(double r)
        {
            var x = r / width - 0.5;
            var k0 = Math.Clamp((int)Math.Floor(x), 0, medians.Length - 1);
            var k1 = Math.Min(k0 + 1, medians.Length - 1);
            var (a, b) = (medians[k0], medians[k1]);
            if (double.IsNaN(a)) return double.IsNaN(b) ? double.NaN : b;
            if (double.IsNaN(b)) return a;
            return a + Math.Clamp(x - k0, 0, 1) * (b - a);
        }
        for (var cell = 0; cell < gridSize * gridSize; cell++)
        {
            var r = Radius(cell);
            var w = Math.Clamp(r - wingRadius, 0, 1);
            if (w == 0) continue;
            var pooled = Profile(r);
            if (double.IsNaN(pooled)) continue;
            var own = updates[0][cell];
            updates[0][cell] = double.IsNaN(own) ? pooled : (1 - w) * own + w * pooled;
            for (var k = 1; k < updates.Count; k++) if (!double.IsNaN(updates[k][cell])) updates[k][cell] *= 1 - w;
        }
        return errors;
    }

    /// <summary>
    /// Where the stars no longer measure the wings (an annulus' mean ψ below twice the standard error of its pooled
    /// median), ψ is the power law r^−p fitted to the measured annuli between wingRadius and there (p within 3-8:
    /// a Moffat's r^−2β wing down to a Gaussian's fall), and the variation terms are zero. Without this, the noise of a
    /// few stars' wings and of their local skies, summed over the whole stamp, moved the ePSF's normalisation, and with
    /// it every flux, by several percent (the demo's 1024² images: ~10 stars, 3-16 %). Anderson &amp; King (2000, sec.
    /// 3) likewise trust their ePSF only as far out as the stars constrain it.
    /// </summary>
    private static void ExtrapolateWings(List<double[]> terms, int gridSize, int s, double wingRadius, double[] errors)
    {
        const double width = 0.5;
        var c = (gridSize - 1) / 2.0;
        var psi = terms[0];
        var sums = new double[errors.Length];
        var counts = new int[errors.Length];
        for (var cell = 0; cell < psi.Length; cell++)
        {
            var k = (int)(Math.Sqrt((cell % gridSize - c) * (cell % gridSize - c) + (cell / gridSize - c) * (cell / gridSize - c)) / s / width);
            sums[k] += psi[cell];
            counts[k]++;
        }
        var first = (int)Math.Ceiling(wingRadius / width);
        var cut = -1;
        var (sx, sy, sxx, sxy, n) = (0.0, 0.0, 0.0, 0.0, 0);
        for (var k = first; k < errors.Length; k++)
        {
            if (counts[k] == 0 || double.IsNaN(errors[k])) continue;
            var mean = sums[k] / counts[k];
            if (!(mean > 2 * errors[k])) { cut = k; break; }
            var (x, y) = (Math.Log((k + 0.5) * width), Math.Log(mean));
            (sx, sy, sxx, sxy, n) = (sx + x, sy + y, sxx + x * x, sxy + x * y, n + 1);
        }
        if (cut < 0) return;
        double slope = -5, intercept;
        if (n >= 2 && n * sxx - sx * sx > 0) slope = Math.Clamp((n * sxy - sx * sy) / (n * sxx - sx * sx), -8, -3);
        if (n >= 1) intercept = (sy - slope * sx) / n;
        else
        {
            // Nothing beyond wingRadius is measured: the power law continues ψ's mean at wingRadius.
            var k0 = Math.Max(0, first - 1);
            var at = counts[k0] > 0 ? sums[k0] / counts[k0] : 0;
            if (!(at > 0)) at = 0;
            intercept = at > 0 ? Math.Log(at) - slope * Math.Log((k0 + 0.5) * width) : double.NegativeInfinity;
        }
        var radius = cut * width;
        for (var cell = 0; cell < psi.Length; cell++)
        {
            var r = Math.Sqrt((cell % gridSize - c) * (cell % gridSize - c) + (cell / gridSize - c) * (cell / gridSize - c)) / s;
            if (r < radius) continue;
            psi[cell] = Math.Exp(intercept + slope * Math.Log(r));
            for (var t = 1; t < terms.Count; t++) terms[t][cell] = 0;
        }
    }

    /// <summary>Per cell, the clipped least-squares polynomial in the stars' scaled positions; one update grid per term.</summary>
    private List<double[]> FitVariation(Bins bins, List<Star> stars, int degree, (double X, double Y, double Scale) origin, int gridSize)
    {
        var terms = EffectivePsf.TermCount(degree);
        var updates = Enumerable.Range(0, terms).Select(_ => new double[gridSize * gridSize]).ToList();
        var positions = new double[stars.Count * terms];
        for (var k = 0; k < stars.Count; k++)
            EffectivePsf.Monomials((stars[k].X - origin.X) / origin.Scale, (stars[k].Y - origin.Y) / origin.Scale, degree, positions.AsSpan(k * terms, terms));
        Parallel.For(0, gridSize * gridSize, cell =>
        {
            var n = bins.Count(cell);
            if (n == 0)
            {
                foreach (var u in updates) u[cell] = double.NaN;
                return;
            }
            var coefficients = n >= 3 * terms ? ClippedPolynomial(bins.Values(cell), bins.Stars(cell), positions, terms, _options.ClipSigma) : null;
            if (coefficients is null)
            {
                updates[0][cell] = OrderStatistics.ClippedMedian(bins.Values(cell).ToArray(), _options.ClipSigma);
                return;
            }
            for (var t = 0; t < terms; t++) updates[t][cell] = coefficients[t];
        });
        return updates;
    }

    /// <summary>Fits each star's flux and centre with its ePSF; returns the largest centre shift (pixels). Failed fits drop the star.</summary>
    private double FitStars(List<Star> all, EffectivePsf psf)
    {
        var stars = all.Where(x => x.Good).ToList();
        var shifts = new double[stars.Count];
        Parallel.For(0, stars.Count, k =>
        {
            var star = stars[k];
            var (x, y) = (star.X, star.Y);
            if (!FitStar(star, psf)) { star.Good = false; return; }
            shifts[k] = Math.Sqrt((star.X - x) * (star.X - x) + (star.Y - y) * (star.Y - y));
        });
        return stars.Count == 0 ? 0 : shifts.Max();
    }

    /// <summary>
    /// Least squares of flux f and centre (x, y) of f ψ(i − x, j − y) to the star's pixels within FitRadius (Gauss-Newton,
    /// steps capped at 0.5 px). False when the flux is not positive or the centre leaves its peak pixel by more than 1.5 px.
    /// </summary>
    private bool FitStar(Star star, EffectivePsf psf)
    {
        var size = _options.StampSize;
        var c = size / 2;
        var r2 = _options.FitRadius * _options.FitRadius;
        var (x, y, f) = (star.X, star.Y, star.Flux);
        Span<double> a = stackalloc double[9];
        Span<double> b = stackalloc double[3];
        for (var iteration = 0; iteration < 30; iteration++)
        {
            a.Clear();
            b.Clear();
            var (lx, ly) = (x - star.X0, y - star.Y0);
            var (i0, i1) = (Math.Max(0, (int)Math.Floor(lx - _options.FitRadius)), Math.Min(size - 1, (int)Math.Ceiling(lx + _options.FitRadius)));
            var (j0, j1) = (Math.Max(0, (int)Math.Floor(ly - _options.FitRadius)), Math.Min(size - 1, (int)Math.Ceiling(ly + _options.FitRadius)));
            for (var j = j0; j <= j1; j++)
            {
                for (var i = i0; i <= i1; i++)
                {
                    var (dx, dy) = (i - lx, j - ly);
                    if (dx * dx + dy * dy > r2) continue;
                    var (v, gx, gy) = psf.ValueAndGradient(dx, dy, x, y);
                    var r = star.Box[j * size + i] - f * v;
                    double j0v = v, j1v = -f * gx, j2v = -f * gy;
                    a[0] += j0v * j0v; a[1] += j0v * j1v; a[2] += j0v * j2v;
                    a[4] += j1v * j1v; a[5] += j1v * j2v; a[8] += j2v * j2v;
                    b[0] += j0v * r; b[1] += j1v * r; b[2] += j2v * r;
                }
            }
            (a[3], a[6], a[7]) = (a[1], a[2], a[5]);
            if (!LinearSystem.SolveSymmetric(a, b, 3)) return false;
            f += b[0];
            var (stepX, stepY) = (Math.Clamp(b[1], -0.5, 0.5), Math.Clamp(b[2], -0.5, 0.5));
            x += stepX;
            y += stepY;
            if (!(f > 0) || Math.Abs(x - star.X0 - c) > 1.5 || Math.Abs(y - star.Y0 - c) > 1.5) return false;
            if (stepX * stepX + stepY * stepY < 1e-10) break;
        }
        (star.X, star.Y, star.Flux) = (x, y, f);
        return true;
    }

    /// <summary>
    /// Measures each star's excess light (data / fitted model − 1 within the excess aperture) and drops those that depart
    /// from the typical star's (half-sample mode) by more than ExcessTolerance plus 3 sigma of their own noise.
    /// True when a star was dropped.
    /// </summary>
    private bool DropOutliers(List<Star> stars, EffectivePsf psf, double noiseSigma)
    {
        var size = _options.StampSize;
        var live = stars.Where(x => x.Good).ToList();
        if (live.Count == 0) return false;
        var radius = Math.Max(3, _options.ExcessRadiusInFwhm * (double.IsFinite(psf.FwhmPixels) ? psf.FwhmPixels : _options.DefaultFwhm));
        Parallel.ForEach(live, star =>
        {
            var stamp = new double[size * size];
            psf.RenderBox(star.X, star.Y, star.X0, star.Y0, size, size, stamp);
            double data = 0, model = 0;
            var pixels = 0;
            for (var j = 0; j < size; j++)
            {
                for (var i = 0; i < size; i++)
                {
                    var (dx, dy) = (star.X0 + i - star.X, star.Y0 + j - star.Y);
                    if (dx * dx + dy * dy > radius * radius) continue;
                    data += star.Box[j * size + i];
                    model += star.Flux * stamp[j * size + i];
                    pixels++;
                }
            }
            star.Excess = model > 0 ? data / model - 1 : double.PositiveInfinity;
            star.ExcessSigma = model > 0 ? noiseSigma * Math.Sqrt(pixels) / model : 0;
        });
        var typical = HalfSampleMode(live.Select(x => x.Excess).Where(double.IsFinite).ToArray());
        var dropped = false;
        foreach (var star in live)
        {
            if (Math.Abs(star.Excess - typical) <= _options.ExcessTolerance + 3 * star.ExcessSigma) continue;
            star.Good = false;
            dropped = true;
        }
        return dropped;
    }

    /// <summary>
    /// The width of the stellar locus among candidate widths: nothing on the sky is sharper than the PSF (hot pixels and
    /// cosmic rays were excluded), so the stars are the narrowest well-populated cluster, even where galaxies outnumber
    /// them. For each width, the candidates within ±tolerance of it are counted; of the widths whose count reaches half
    /// the largest count, the narrowest is taken, then moved to the densest width within +tolerance of it; the result is
    /// the median of the widths within ±tolerance of that.
    /// </summary>
    internal static double StellarWidth(double[] widths, double tolerance)
    {
        if (widths.Length == 0) return double.NaN;
        var sorted = (double[])widths.Clone();
        Array.Sort(sorted);
        var counts = new int[sorted.Length];
        for (var i = 0; i < sorted.Length; i++)
        {
            var (lo, hi) = (sorted[i] * (1 - tolerance), sorted[i] * (1 + tolerance));
            counts[i] = sorted.Count(w => w >= lo && w <= hi);
        }
        var most = counts.Max();
        var first = Array.FindIndex(counts, c => 2 * c >= most);
        var best = first;
        for (var i = first; i < sorted.Length && sorted[i] <= sorted[first] * (1 + tolerance); i++)
            if (counts[i] > counts[best]) best = i;
        var members = sorted.Where(w => Math.Abs(w / sorted[best] - 1) <= tolerance).ToArray();
        return members[members.Length / 2];
    }

    /// <summary>
    /// The half-sample mode (Bickel &amp; Frühwirth 2006, Comput. Stat. Data Anal. 50, 3500): repeatedly keep the half of
    /// the sorted values with the smallest range; the densest cluster's centre, unmoved by up to half the values lying
    /// elsewhere (here: the stars' excess among galaxies'). NaN for none.
    /// </summary>
    internal static double HalfSampleMode(double[] values)
    {
        if (values.Length == 0) return double.NaN;
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        var (lo, n) = (0, sorted.Length);
        while (n > 3)
        {
            var half = (n + 1) / 2;
            var best = lo;
            for (var i = lo; i + half - 1 < lo + n; i++)
                if (sorted[i + half - 1] - sorted[i] < sorted[best + half - 1] - sorted[best]) best = i;
            (lo, n) = (best, half);
        }
        if (n == 3) return sorted[lo + 1] - sorted[lo] < sorted[lo + 2] - sorted[lo + 1] ? (sorted[lo] + sorted[lo + 1]) / 2
            : sorted[lo + 2] - sorted[lo + 1] < sorted[lo + 1] - sorted[lo] ? (sorted[lo + 1] + sorted[lo + 2]) / 2 : sorted[lo + 1];
        return n == 2 ? (sorted[lo] + sorted[lo + 1]) / 2 : sorted[lo];
    }

    /// <summary>
    /// Least squares of values = Σ_t c_t P_t(star) with residuals beyond nSigma times their rms rejected (up to 5 rounds);
    /// null when the system is singular (the stars of the cell do not span the detector).
    /// </summary>
    private static double[]? ClippedPolynomial(ReadOnlySpan<double> values, ReadOnlySpan<int> stars, double[] positions, int terms, double nSigma)
    {
        var keep = new bool[values.Length];
        Array.Fill(keep, true);
        var a = new double[terms * terms];
        var b = new double[terms];
        for (var round = 0; round < 5; round++)
        {
            Array.Clear(a);
            Array.Clear(b);
            for (var n = 0; n < values.Length; n++)
            {
                if (!keep[n]) continue;
                var p = positions.AsSpan(stars[n] * terms, terms);
                for (var r = 0; r < terms; r++)
                {
                    b[r] += p[r] * values[n];
                    for (var q = r; q < terms; q++) a[r * terms + q] += p[r] * p[q];
                }
            }
            for (var r = 0; r < terms; r++) for (var q = 0; q < r; q++) a[r * terms + q] = a[q * terms + r];
            if (!LinearSystem.SolveSymmetric(a, b, terms)) return null;
            double sum2 = 0;
            var kept = 0;
            var residuals = new double[values.Length];
            for (var n = 0; n < values.Length; n++)
            {
                var p = positions.AsSpan(stars[n] * terms, terms);
                double model = 0;
                for (var t = 0; t < terms; t++) model += b[t] * p[t];
                residuals[n] = values[n] - model;
                if (!keep[n]) continue;
                sum2 += residuals[n] * residuals[n];
                kept++;
            }
            var limit = nSigma * Math.Sqrt(sum2 / Math.Max(1, kept - terms));
            var changed = false;
            for (var n = 0; n < values.Length; n++)
            {
                var inside = Math.Abs(residuals[n]) <= limit;
                if (inside != keep[n]) { keep[n] = inside; changed = true; }
            }
            if (!changed || keep.Count(k => k) < 2 * terms) break;
        }
        return b;
    }

    /// <summary>Cells without samples (NaN) take the mean of their sampled neighbours, ring after ring; any left (none sampled) are 0.</summary>
    private static void FillEmpty(double[] grid, int size)
    {
        for (var pass = 0; pass < size; pass++)
        {
            var filled = (double[])grid.Clone();
            var remaining = 0;
            for (var v = 0; v < size; v++)
            {
                for (var u = 0; u < size; u++)
                {
                    if (!double.IsNaN(grid[v * size + u])) continue;
                    double sum = 0;
                    var n = 0;
                    for (var dv = -1; dv <= 1; dv++)
                        for (var du = -1; du <= 1; du++)
                        {
                            var (uu, vv) = (u + du, v + dv);
                            if (uu < 0 || vv < 0 || uu >= size || vv >= size || double.IsNaN(grid[vv * size + uu])) continue;
                            sum += grid[vv * size + uu];
                            n++;
                        }
                    if (n > 0) filled[v * size + u] = sum / n;
                    else remaining++;
                }
            }
            Array.Copy(filled, grid, grid.Length);
            if (remaining == 0) return;
        }
        for (var i = 0; i < grid.Length; i++) if (double.IsNaN(grid[i])) grid[i] = 0;
    }

    /// <summary>The residual's smoothing (native pixels): FewStarsSmoothing with fewer than 4 stars per phase cell, else none.</summary>
    private double ResidualBlurPixels(int stars, int s) => stars < 4 * s * s ? _options.FewStarsSmoothing : 0;

    /// <summary>The grid convolved with a normalised Gaussian of sigma samples (separable; truncated at 3 sigma, renormalised at the grid's edges).</summary>
    private static double[] GaussianBlur(double[] grid, int size, double sigma)
    {
        var h = (int)Math.Ceiling(3 * sigma);
        var kernel = new double[2 * h + 1];
        for (var i = -h; i <= h; i++) kernel[i + h] = Math.Exp(-0.5 * i * i / (sigma * sigma));
        return BlurAlong(BlurAlong(grid, size, kernel, 1), size, kernel, size);
    }

    /// <summary>One pass of the 1-D kernel along rows (stride 1) or columns (stride size).</summary>
    private static double[] BlurAlong(double[] grid, int size, double[] kernel, int stride)
    {
        var h = kernel.Length / 2;
        var result = new double[grid.Length];
        for (var v = 0; v < size; v++)
            for (var u = 0; u < size; u++)
            {
                var along = stride == 1 ? u : v;
                double sum = 0, weight = 0;
                for (var i = Math.Max(-h, -along); i <= h && along + i < size; i++)
                {
                    sum += kernel[i + h] * grid[v * size + u + i * stride];
                    weight += kernel[i + h];
                }
                result[v * size + u] = sum / weight;
            }
        return result;
    }

    /// <summary>The grid convolved with <see cref="QuarticKernel"/> (zero beyond the grid).</summary>
    private static double[] Smooth(double[] grid, int size)
    {
        var result = new double[grid.Length];
        for (var v = 0; v < size; v++)
        {
            for (var u = 0; u < size; u++)
            {
                double sum = 0;
                for (var kv = -2; kv <= 2; kv++)
                {
                    var vv = v + kv;
                    if (vv < 0 || vv >= size) continue;
                    for (var ku = -2; ku <= 2; ku++)
                    {
                        var uu = u + ku;
                        if (uu < 0 || uu >= size) continue;
                        sum += QuarticKernel[(kv + 2) * 5 + ku + 2] * grid[vv * size + uu];
                    }
                }
                result[v * size + u] = sum;
            }
        }
        return result;
    }

    /// <summary>
    /// Shifts the grid (spline interpolation) so that its windowed centroid, with a window of its own FWHM, sits on the
    /// middle sample, as photutils recentres its ePSF each iteration (twice: the shifted profile is measured again);
    /// unchanged if the centroid cannot be measured.
    /// </summary>
    private static double[] Recentre(double[] samples, int size, int s)
    {
        if (!(samples.Sum() > 0)) return samples;
        var c = (size - 1) / 2.0;
        var window = Math.Max(2.0, new EffectivePsf([samples], size, s, 0, (0, 0, 1), PsfMethod.Empirical, 0).FwhmPixels * s);
        if (!double.IsFinite(window)) return samples;
        var current = samples;
        for (var pass = 0; pass < 2; pass++)
        {
            if (PsfShape.WindowedCentroid(Array.ConvertAll(current, v => (float)v), size, size, c, c, window) is not { } centre) break;
            var (du, dv) = (centre.X - c, centre.Y - c);
            if (du * du + dv * dv < 1e-6) break;
            var shifted = new double[samples.Length];
            new CubicBSplineGrid(current, size).Lattice(du, dv, 1, size, size, shifted);
            current = shifted;
        }
        return current;
    }

    /// <summary>
    /// Each star's sky is its box's outer-ring sky (radius c − 2 to c, <see cref="CutStars"/>), which holds the star's own wing, F ψ(ring): a
    /// Moffat of beta 2.5 and FWHM 2.8 px puts 6.5e-6 of its light per pixel there, and taking it as sky took the light
    /// out of the ePSF's wings (22 % low at 10-14 px), so that every flux it normalised came out 0.5 % low
    /// (<c>EffectivePsfBuilderTests.A_broad_moffats_wing_light_stays_in_the_epsf</c>). The ring's ψ cannot come from the
    /// ring itself (the stars' skies made it zero there), so it is the power law fitted to ψ's azimuthal means between
    /// wingRadius and 3 px inside the ring, evaluated at the ring; each iteration adds F times its change to every star's
    /// box. A profile cut off inside the ring (astmkprof's Moffats end at 5 FWHM) gains a little light it does not have.
    /// </summary>
    private void RestoreRingLight(List<Star> stars, EffectivePsf psf, double wingRadius)
    {
        var size = _options.StampSize;
        var ringRadius = size / 2 - 1.0;
        var level = PowerLawWing(psf, wingRadius, ringRadius - 4, ringRadius);
        foreach (var star in stars)
        {
            var light = double.IsFinite(star.Flux) && star.Flux > 0 ? star.Flux * level : 0;
            var add = light - star.RingLight;
            if (add == 0) continue;
            for (var i = 0; i < star.Box.Length; i++) star.Box[i] += add;
            star.RingLight = light;
        }
    }

    /// <summary>ψ per unit flux at radius <paramref name="at"/> from the power law r^−p (p within 3-8) fitted to its azimuthal means between from and to (0 when they do not fall).</summary>
    internal static double PowerLawWing(EffectivePsf psf, double from, double to, double at)
    {
        const int directions = 16;
        const double step = 0.5;
        var (sx, sy, sxx, sxy, n) = (0.0, 0.0, 0.0, 0.0, 0);
        for (var r = Math.Max(from, step); r <= to; r += step)
        {
            double sum = 0;
            for (var d = 0; d < directions; d++)
            {
                var a = 2 * Math.PI * d / directions;
                sum += psf.Value(r * Math.Cos(a), r * Math.Sin(a));
            }
            var mean = sum / directions;
            if (!(mean > 0)) continue;
            var (x, y) = (Math.Log(r), Math.Log(mean));
            (sx, sy, sxx, sxy, n) = (sx + x, sy + y, sxx + x * x, sxy + x * y, n + 1);
        }
        if (n < 3 || !(n * sxx - sx * sx > 0)) return 0;
        var slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        if (!(slope < 0)) return 0;
        slope = Math.Clamp(slope, -8, -3);
        return Math.Exp((sy - slope * sx) / n + slope * Math.Log(at));
    }

    /// <summary>The <see cref="AnnulusSky"/> of the box's pixels at radius c − 2 to c (c = size / 2) from its centre.</summary>
    private static AnnulusSkyLevels OuterRingSky(double[] box, int size)
    {
        var c = size / 2;
        var ring = new List<double>();
        for (var j = 0; j < size; j++)
            for (var i = 0; i < size; i++)
            {
                var r = Math.Sqrt((i - c) * (i - c) + (j - c) * (j - c));
                if (r >= c - 2 && r <= c) ring.Add(box[j * size + i]);
            }
        return AnnulusSky.Estimate(ring);
    }
}
