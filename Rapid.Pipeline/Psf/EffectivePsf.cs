namespace Rapid.Pipeline.Psf;

/// <summary>
/// An effective PSF (Anderson &amp; King 2000, PASP 112, 1360): the instrumental PSF already convolved with the pixel
/// response, tabulated on a grid <see cref="Oversampling"/> times finer than the detector's pixels, so that a point
/// source of flux f centred at (x, y) puts exactly f · ψ(i − x, j − y) into pixel (i, j), at any sub-pixel phase. The
/// grid's middle sample is offset (0, 0); sample (u, v) is offset ((u − c) / s, (v − c) / s) native pixels. Between
/// samples ψ is the interpolating cubic spline (<see cref="CubicBSplineGrid"/>).
/// <para>
/// Across the detector ψ varies as a polynomial in the position (PSFEx's PSFVAR_DEGREES, Bertin 2011, ASP Conf. Ser.
/// 442, 435): ψ(Δ; x, y) = Σ_k P_k(X, Y) ψ_k(Δ), with X = (x − x₀) / scale, Y = (y − y₀) / scale and the monomials
/// P = 1, X, Y, X², XY, Y², ... up to <see cref="Degree"/> (0: the same everywhere). <see cref="At"/> gives the
/// constant ePSF at one position, normalised so that its samples sum to s² (unit flux).
/// </para>
/// Coordinates are 0-based pixels with centres at integers, as everywhere in memory.
/// </summary>
public sealed class EffectivePsf
{
    private readonly double[][] _terms;
    private CubicBSplineGrid[]? _splines;
    private double[]? _sums;
    private double? _fwhm;

    /// <param name="terms">One GridSize² grid per polynomial term (1 term for degree 0); copied.</param>
    /// <param name="origin">The detector position (x₀, y₀) and length scale of the polynomial's variables.</param>
    /// <param name="stars">The stars that built it: fitted 0-based centres and fluxes (none for analytic ePSFs).</param>
    public EffectivePsf(IReadOnlyList<double[]> terms, int gridSize, int oversampling, int degree, (double X, double Y, double Scale) origin,
        PsfMethod method, int starsUsed, IReadOnlyList<PsfStar>? stars = null)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (oversampling < 1) throw new ArgumentException($"the ePSF oversampling must be at least 1, not {oversampling}");
        if (gridSize < 5 || gridSize % 2 == 0) throw new ArgumentException($"an ePSF grid must be odd and at least 5 x 5, not {gridSize} x {gridSize}");
        if (degree < 0 || terms.Count != TermCount(degree)) throw new ArgumentException($"a degree-{degree} ePSF has {TermCount(Math.Max(degree, 0))} terms, not {terms.Count}");
        if (!(origin.Scale > 0)) throw new ArgumentException($"the ePSF's position scale must be positive, not {origin.Scale}");
        foreach (var t in terms)
        {
            if (t.Length != gridSize * gridSize) throw new ArgumentException($"an ePSF term has {t.Length} samples, not {gridSize} x {gridSize}");
            foreach (var v in t) if (!double.IsFinite(v)) throw new ArgumentException("an ePSF term has a non-finite sample");
        }
        _terms = terms.Select(t => (double[])t.Clone()).ToArray();
        GridSize = gridSize;
        Oversampling = oversampling;
        Degree = degree;
        Origin = origin;
        Method = method;
        StarsUsed = starsUsed;
        Stars = stars ?? [];
        if (degree == 0)
        {
            var sum = _terms[0].Sum();
            if (!(sum > 0)) throw new ArgumentException($"the ePSF samples sum to {sum}; they must be positive");
            var scale = oversampling * oversampling / sum;
            for (var i = 0; i < _terms[0].Length; i++) _terms[0][i] *= scale;
        }
    }

    /// <summary>
    /// The fractional uncertainty of the light in the ePSF's pooled wing (<see cref="EffectivePsfBuilder"/>): every flux
    /// fitted with the ePSF's core is scaled by its normalisation to unit total, so this is an error every such flux
    /// shares. 0 for analytic ePSFs and fallbacks. Computed on first use (the builder's bootstrap costs about 1 CPU s at
    /// 4088², and only the science ePSF's is ever read, after ZOGY).
    /// </summary>
    public double WingLightError { get => _wingLightError.Value; init => _wingLightError = new Lazy<double>(value); }

    /// <summary>The computation of <see cref="WingLightError"/>, run once, when first read.</summary>
    internal Func<double> WingLightErrorComputation { init => _wingLightError = new Lazy<double>(value); }

    private Lazy<double> _wingLightError = new(0.0);

    /// <summary>Samples per native pixel along each axis.</summary>
    public int Oversampling { get; }
    /// <summary>Side of the (odd) sample grid.</summary>
    public int GridSize { get; }
    /// <summary>Degree of the polynomial variation across the detector (0: constant).</summary>
    public int Degree { get; }
    public (double X, double Y, double Scale) Origin { get; }
    public PsfMethod Method { get; }
    /// <summary>Stars whose pixels built the ePSF (0 for analytic ones).</summary>
    public int StarsUsed { get; }
    /// <summary>The stars that built it, with the centres (0-based) and fluxes fitted with it.</summary>
    public IReadOnlyList<PsfStar> Stars { get; }
    /// <summary>True for the Gaussian fallbacks (a warning for the manifest).</summary>
    public bool IsFallback => Method is PsfMethod.GaussianFromStars or PsfMethod.GaussianFromDefault;
    /// <summary>Full width at half maximum (native pixels) of ψ at <see cref="Origin"/>: the pixel-convolved profile's.</summary>
    public double FwhmPixels => _fwhm ??= Degree == 0 ? MeasureFwhm() : At(Origin.X, Origin.Y).FwhmPixels;
    /// <summary>Half the extent of the grid in native pixels: ψ is zero beyond.</summary>
    public double RadiusPixels => (GridSize - 1) / 2.0 / Oversampling;
    /// <summary>The samples of the constant term (a copy), or of the whole ePSF when <see cref="Degree"/> is 0.</summary>
    public double[] Samples => (double[])_terms[0].Clone();

    /// <summary>Number of monomials of a polynomial of this degree in two variables.</summary>
    public static int TermCount(int degree) => (degree + 1) * (degree + 2) / 2;

    /// <summary>The constant ePSF at detector position (x, y), normalised to unit flux; this ePSF itself when it does not vary.</summary>
    public EffectivePsf At(double x, double y)
    {
        if (Degree == 0) return this;
        var (px, py) = ((x - Origin.X) / Origin.Scale, (y - Origin.Y) / Origin.Scale);
        Span<double> p = stackalloc double[_terms.Length];
        Monomials(px, py, Degree, p);
        var combined = new double[GridSize * GridSize];
        for (var k = 0; k < _terms.Length; k++)
        {
            var (term, pk) = (_terms[k], p[k]);
            for (var i = 0; i < combined.Length; i++) combined[i] += pk * term[i];
        }
        return new EffectivePsf([combined], GridSize, Oversampling, 0, (x, y, Origin.Scale), Method, StarsUsed, Stars) { _wingLightError = _wingLightError };
    }

    /// <summary>ψ at offset (dx, dy) native pixels from a source's centre, at <see cref="Origin"/> (anywhere when constant).</summary>
    public double Value(double dx, double dy) => ValueAndGradient(dx, dy, Origin.X, Origin.Y).Value;

    /// <summary>ψ and its derivatives with respect to dx and dy (per native pixel) at offset (dx, dy) for a source at detector (x, y).</summary>
    public (double Value, double Dx, double Dy) ValueAndGradient(double dx, double dy, double x, double y)
    {
        var splines = Splines();
        Span<double> p = stackalloc double[splines.Length];
        var norm = Weights(x, y, p);
        var (u, v) = (GridCentre + dx * Oversampling, GridCentre + dy * Oversampling);
        double value = 0, gx = 0, gy = 0;
        for (var k = 0; k < splines.Length; k++)
        {
            var (a, du, dv) = splines[k].ValueAndGradient(u, v);
            value += p[k] * a;
            gx += p[k] * du;
            gy += p[k] * dv;
        }
        return (value / norm, gx * Oversampling / norm, gy * Oversampling / norm);
    }

    /// <summary>
    /// The native pixels (x0 + i, y0 + j), i &lt; nx, j &lt; ny, of a unit-flux point source centred at 0-based detector
    /// position (x, y): ψ(x0 + i − x, y0 + j − y) with ψ the ePSF at (x, y), into output (row-major, nx per row).
    /// </summary>
    public void RenderBox(double x, double y, int x0, int y0, int nx, int ny, Span<double> output)
    {
        if (output.Length < nx * ny) throw new ArgumentException($"the output holds {output.Length} values, not {nx} x {ny}");
        var splines = Splines();
        Span<double> p = stackalloc double[splines.Length];
        var norm = Weights(x, y, p);
        var (u0, v0) = (GridCentre + (x0 - x) * Oversampling, GridCentre + (y0 - y) * Oversampling);
        var box = output[..(nx * ny)];
        if (splines.Length == 1)
        {
            splines[0].Lattice(u0, v0, Oversampling, nx, ny, box);
            return;
        }
        box.Clear();
        var term = new double[nx * ny];
        for (var k = 0; k < splines.Length; k++)
        {
            splines[k].Lattice(u0, v0, Oversampling, nx, ny, term);
            var pk = p[k] / norm;
            for (var i = 0; i < box.Length; i++) box[i] += pk * term[i];
        }
    }

    /// <summary>
    /// The native-pixel image of a unit-flux point source at 0-based detector position (x, y): a size x size stamp
    /// (row-major, size odd) whose middle pixel is image pixel (round(x), round(y)); stamp pixel (i, j) holds
    /// ψ(round(x) − c + i − x, round(y) − c + j − y) with c = size / 2 and ψ the ePSF at (x, y). Its sum is the
    /// fraction of the light inside the stamp (1 for a stamp that holds the whole grid, at any phase).
    /// </summary>
    public double[] Render(double x, double y, int size)
    {
        if (size < 1 || size % 2 == 0) throw new ArgumentException($"a rendered stamp must be odd-sized, not {size}");
        var c = size / 2;
        var stamp = new double[size * size];
        RenderBox(x, y, (int)Math.Round(x) - c, (int)Math.Round(y) - c, size, size, stamp);
        return stamp;
    }

    /// <summary>
    /// The PSF at detector position (x, y) as ZOGY and the PSF fits take it: the ePSF sampled at whole-pixel offsets
    /// (phase 0, the image of a source centred on a pixel), size x size (odd; default the whole grid's extent), sum 1.
    /// </summary>
    public PsfModel ModelAt(double x, double y, int? size = null)
    {
        var n = size ?? (2 * (int)Math.Floor(RadiusPixels) + 1);
        if (n < 3 || n % 2 == 0) throw new ArgumentException($"a PSF stamp must be odd-sized and at least 3 x 3, not {n}");
        var stamp = new double[n * n];
        var (ix, iy) = ((int)Math.Round(x), (int)Math.Round(y));
        RenderBox(ix, iy, ix - n / 2, iy - n / 2, n, n, stamp);
        return new PsfModel(stamp, n, At(x, y).FwhmPixels, Method, StarsUsed);
    }

    /// <summary>
    /// The PSF at detector position (x, y) as a shift-invariant model on the native grid takes it (ZOGY's P_n and P_r):
    /// the ePSF averaged over sub-pixel phase after each phase is interpolated back onto the pixel centres with the
    /// pipeline's Lanczos-3 kernel, P(k) = ∫ ψ(t) L3(k − t) dt, computed from the supersampled samples. It is what the
    /// stack of Lanczos-recentred stars converges to, with every ePSF sample contributing to every pixel (a phase-0
    /// sampling would take each pixel from the 1 / s² of the samples that fall on it, and their noise prints, times
    /// each star's flux, around every star of the difference image). size x size, odd, sum 1.
    /// </summary>
    public PsfModel PhaseAveragedModelAt(double x, double y, int? size = null)
    {
        var n = size ?? (2 * (int)Math.Floor(RadiusPixels) + 1);
        if (n < 3 || n % 2 == 0) throw new ArgumentException($"a PSF stamp must be odd-sized and at least 3 x 3, not {n}");
        var psf = At(x, y);
        var samples = psf._terms[0];
        var (g, s, c, h) = (GridSize, Oversampling, GridCentre, n / 2);
        // Separable weights: kernel[k, u] = L3(k − h − t_u) with t_u = (u − c) / s the sample's offset.
        var kernel = new double[n * g];
        for (var k = 0; k < n; k++)
            for (var u = 0; u < g; u++) kernel[k * g + u] = Resampling.LanczosKernel.Exact(k - h - (u - c) / s);
        var rows = new double[n * g]; // rows[j, u] = Σ_v kernel[j, v] ψ[v, u]
        for (var j = 0; j < n; j++)
            for (var v = 0; v < g; v++)
            {
                var w = kernel[j * g + v];
                if (w == 0) continue;
                for (var u = 0; u < g; u++) rows[j * g + u] += w * samples[v * g + u];
            }
        var stamp = new double[n * n];
        for (var j = 0; j < n; j++)
            for (var i = 0; i < n; i++)
            {
                double sum = 0;
                for (var u = 0; u < g; u++) sum += kernel[i * g + u] * rows[j * g + u];
                stamp[j * n + i] = sum;
            }
        return new PsfModel(stamp, n, psf.FwhmPixels, Method, StarsUsed);
    }

    /// <summary>
    /// A pixel-integrated circular Gaussian of the given FWHM (the exact ePSF of a Gaussian PSF on square pixels):
    /// each sample is the product of the Gaussian's integrals over the pixel along x and y.
    /// </summary>
    public static EffectivePsf Gaussian(double fwhmPixels, double radiusPixels, int oversampling, PsfMethod method, int starsUsed = 0)
    {
        if (!(fwhmPixels > 0)) throw new ArgumentException($"a Gaussian ePSF needs a positive FWHM, not {fwhmPixels}");
        var size = 2 * (int)Math.Ceiling(radiusPixels * oversampling) + 1;
        var c = size / 2;
        var sigma = fwhmPixels * PsfShape.SigmaPerFwhm;
        var axis = new double[size];
        for (var u = 0; u < size; u++)
        {
            var d = (double)(u - c) / oversampling;
            axis[u] = 0.5 * (Erf((d + 0.5) / (Math.Sqrt(2) * sigma)) - Erf((d - 0.5) / (Math.Sqrt(2) * sigma)));
        }
        var samples = new double[size * size];
        for (var v = 0; v < size; v++)
            for (var u = 0; u < size; u++) samples[v * size + u] = axis[u] * axis[v];
        return new EffectivePsf([samples], size, oversampling, 0, (0, 0, 1), method, starsUsed);
    }

    /// <summary>
    /// A PSF given on the native grid (e.g. a PSF file) as an ePSF: its samples are taken as the ePSF at whole-pixel
    /// offsets (oversampling 1) and the spline interpolates between them; an undersampled stamp cannot say more.
    /// </summary>
    public static EffectivePsf FromModel(PsfModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var size = Math.Max(model.Size, 5);
        var pad = (size - model.Size) / 2;
        var samples = new double[size * size];
        for (var j = 0; j < model.Size; j++)
            for (var i = 0; i < model.Size; i++) samples[(j + pad) * size + i + pad] = model[i, j];
        return new EffectivePsf([samples], size, 1, 0, (0, 0, 1), model.Method, model.StarsUsed);
    }

    /// <summary>P_k(x, y) for the monomials 1, x, y, x², xy, y², ..., degree by degree (PSFEx's order).</summary>
    internal static void Monomials(double x, double y, int degree, Span<double> values)
    {
        var k = 0;
        for (var d = 0; d <= degree; d++)
            for (var py = 0; py <= d; py++) values[k++] = Math.Pow(x, d - py) * Math.Pow(y, py);
    }

    private double GridCentre => (GridSize - 1) / 2.0;

    /// <summary>One interpolating spline per term (made on first use; the terms never change).</summary>
    private CubicBSplineGrid[] Splines() => _splines ??= _terms.Select(t => new CubicBSplineGrid(t, GridSize)).ToArray();

    /// <summary>The monomials at detector (x, y) into p, and the flux of Σ p_k ψ_k (samples / s²) that divides them.</summary>
    private double Weights(double x, double y, Span<double> p)
    {
        Monomials((x - Origin.X) / Origin.Scale, (y - Origin.Y) / Origin.Scale, Degree, p);
        _sums ??= _terms.Select(t => t.Sum() / (Oversampling * Oversampling)).ToArray();
        double norm = 0;
        for (var k = 0; k < p.Length; k++) norm += p[k] * _sums[k];
        return norm;
    }

    /// <summary>
    /// FWHM (native pixels) of the azimuthally averaged profile about the centre: twice the radius at which it first
    /// falls to half its central value (24 directions, 0.01 px steps); NaN if it never does.
    /// </summary>
    private double MeasureFwhm()
    {
        var peak = Value(0, 0);
        if (!(peak > 0)) return double.NaN;
        const int directions = 24;
        const double step = 0.01;
        var previous = peak;
        for (var r = step; r < RadiusPixels; r += step)
        {
            double sum = 0;
            for (var k = 0; k < directions; k++)
            {
                var angle = 2 * Math.PI * k / directions;
                sum += Value(r * Math.Cos(angle), r * Math.Sin(angle));
            }
            var value = sum / directions;
            if (value <= peak / 2) return 2 * (r - step * (peak / 2 - value) / (previous - value));
            previous = value;
        }
        return double.NaN;
    }

    /// <summary>The error function, to 1.2e-7 (Numerical Recipes' erfc by Chebyshev fitting, Press et al. 2007, 6.2.2).</summary>
    internal static double Erf(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + 0.5 * z);
        var erfc = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc : erfc - 1;
    }
}

/// <summary>A star that built an ePSF: its centre (0-based pixels) and flux (image units) fitted with the ePSF.</summary>
public sealed record PsfStar(double X, double Y, double Flux);
