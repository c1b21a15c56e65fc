namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// The parts of ZOGY's score at one position, from local sums over the kernel box (the same S and variance terms the
/// full transform gives, Zackay, Ofek and Gal-Yam 2016, eq. 12 and 25-33): S_N and S_R; the noise variance
/// V(S_N) + V(S_R) of the images' variance maps; the model-error variance (what (epsilon I)^2 adds); the astrometric
/// variance sigma_x^2 [(dS_N/dx)^2 + (dS_R/dx)^2] + sigma_y^2 [...]; the width variance (w_n^2 + w_r^2) (lap S_R)^2
/// (a PSF model too sharp or too broad by w leaves w times the Laplacian of each star); the flux-ratio
/// variance e^2 S_R^2 (a fractional error e of F_r moves S by e S_R); and the lost-flux variance of masked pixels that
/// held light (see <see cref="ZogySubtraction"/>).
/// </summary>
public readonly record struct ScoreSample(double NewScore, double ReferenceScore, double NoiseVariance, double ModelVariance,
    double AstrometricVariance, double WidthVariance, double FluxRatioVariance, double LostFluxVariance)
{
    /// <summary>S = S_N - S_R.</summary>
    public double Score => NewScore - ReferenceScore;
    /// <summary>V(S_N) + V(S_R) with the model-error terms: the variance the flux alpha = S / F_S is uncertain by.</summary>
    public double ScoreVariance => NoiseVariance + ModelVariance;
    /// <summary>Every term: the variance S_corr is normalised by.</summary>
    public double TotalVariance => NoiseVariance + ModelVariance + AstrometricVariance + WidthVariance + FluxRatioVariance + LostFluxVariance;
    public double ScoreCorrected => TotalVariance > 0 ? Score / Math.Sqrt(TotalVariance) : double.NaN;
    /// <summary>What the terms for residuals of constant sources (model error, registration, width, flux ratio, lost flux) add.</summary>
    public double ResidualVariance => ModelVariance + AstrometricVariance + WidthVariance + FluxRatioVariance + LostFluxVariance;
}

/// <summary>
/// What ZOGY saw, kept so that its score can be evaluated locally: the images as subtracted (NaN where either was
/// masked), their variance maps, the noise model's parameters and the masked pixels that held light. A window of it
/// (<see cref="Window"/>) can carry extra light, so the score of an injected source is measured without touching the
/// delivered images (ZOGY is linear in N: Zackay et al. 2016, sec. 3).
/// </summary>
public sealed class LocalScore
{
    private readonly float[] _new, _reference;
    private readonly float[]? _newVariance, _referenceVariance, _difference, _uncertainty;
    private readonly bool[] _masked;
    private readonly int _originX, _originY, _windowWidth, _windowHeight;
    private readonly LostFlux _lost;

    internal LocalScore(ZogyKernels kernels, ZogyNoiseModel noise, int width, int height, float[] newImage, float[] reference,
        float[]? newVariance, float[]? referenceVariance, bool[] masked, LostFlux lost)
        : this(kernels, kernels.At(0, 0, noise.ReferenceShiftX, noise.ReferenceShiftY, kernels.Reach), noise, width, height,
            newImage, reference, newVariance, referenceVariance, null, null, masked, lost, 0, 0, width, height)
    {
    }

    private LocalScore(ZogyKernels kernels, ShiftedKernels centre, ZogyNoiseModel noise, int width, int height, float[] newImage, float[] reference,
        float[]? newVariance, float[]? referenceVariance, float[]? difference, float[]? uncertainty, bool[] masked, LostFlux lost,
        int originX, int originY, int windowWidth, int windowHeight)
    {
        (Kernels, Centre, Noise, Width, Height) = (kernels, centre, noise, width, height);
        (_new, _reference, _newVariance, _referenceVariance, _masked, _lost) = (newImage, reference, newVariance, referenceVariance, masked, lost);
        (_difference, _uncertainty) = (difference, uncertainty);
        (_originX, _originY, _windowWidth, _windowHeight) = (originX, originY, windowWidth, windowHeight);
    }

    /// <summary>
    /// The same with the difference image in N's flux unit (D / F_D) and its per-pixel 1-sigma, which PSF fits on D
    /// read (<see cref="DifferenceAt"/>); windows copy them too, with the injected light's share added.
    /// </summary>
    public LocalScore WithDifference(float[] differenceInFluxUnits, float[] uncertainty)
    {
        ArgumentNullException.ThrowIfNull(differenceInFluxUnits);
        ArgumentNullException.ThrowIfNull(uncertainty);
        if (differenceInFluxUnits.Length != _new.Length || uncertainty.Length != _new.Length)
            throw new ArgumentException($"the difference and its uncertainty must have {_new.Length} values like the images");
        return new LocalScore(Kernels, Centre, Noise, Width, Height, _new, _reference, _newVariance, _referenceVariance,
            differenceInFluxUnits, uncertainty, _masked, _lost, _originX, _originY, _windowWidth, _windowHeight);
    }

    /// <summary>The difference (flux units) and its 1-sigma at a pixel; NaN off the image, where masked or when none was attached.</summary>
    public (double Value, double Sigma) DifferenceAt(int x, int y)
    {
        if (_difference is null || _uncertainty is null || IsMasked(x, y)) return (double.NaN, double.NaN);
        var p = (y - _originY) * _windowWidth + x - _originX;
        return (_difference[p], _uncertainty[p]);
    }

    public ZogyKernels Kernels { get; }
    public ZogyNoiseModel Noise { get; }
    /// <summary>The full image's size (a window still answers in the full image's coordinates).</summary>
    public int Width { get; }
    public int Height { get; }
    /// <summary>The kernels at zero offset (the pixel grid the full transform samples).</summary>
    public ShiftedKernels Centre { get; }

    /// <summary>Whether ZOGY masked the pixel (either image NaN there); pixels off the image count as masked.</summary>
    public bool IsMasked(int x, int y)
    {
        if (x < 0 || y < 0 || x >= Width || y >= Height) return true;
        var (i, j) = (x - _originX, y - _originY);
        if (i < 0 || j < 0 || i >= _windowWidth || j >= _windowHeight) throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) lies outside the window");
        return _masked[j * _windowWidth + i];
    }

    /// <summary>
    /// The score's parts at (x0, y0) + the kernels' offset (0-based pixels). The astrometric term uses the kernels'
    /// analytic derivatives (the full map's pixel differences are in <see cref="PixelScore"/>).
    /// </summary>
    public ScoreSample Evaluate(int x0, int y0, ShiftedKernels k)
    {
        // The model-error terms' light is the reference's (in N's unit for N's term), as in the full transform.
        var lightScale = Noise.FluxScaleNew / Noise.FluxScaleReference;
        var (en2, er2) = (Math.Pow(Noise.NewModelError * lightScale, 2), Noise.ReferenceModelError * Noise.ReferenceModelError);
        var (bn, br) = (Noise.SigmaNew * Noise.SigmaNew, Noise.SigmaReference * Noise.SigmaReference);
        var sums = new ScoreTermSums(k, _newVariance, _referenceVariance, en2, er2, bn, br);
        WalkKernelBox(x0, y0, k, ref sums);
        var (sn, sr, gnx, gny, grx, gry, lr) = (sums.Sn, sums.Sr, sums.Gnx, sums.Gny, sums.Grx, sums.Gry, sums.Lr);
        var (vn, vr, mn, mr) = (sums.Vn, sums.Vr, sums.Mn, sums.Mr);
        var (sx2, sy2) = (Noise.AstrometricRmsX * Noise.AstrometricRmsX, Noise.AstrometricRmsY * Noise.AstrometricRmsY);
        var astrometric = sx2 * (gnx * gnx + grx * grx) + sy2 * (gny * gny + gry * gry);
        // Constant light scores alike in S_N and S_R, and S_R holds no transient: the width term takes S_R's Laplacian.
        var width = (Noise.NewWidthError * Noise.NewWidthError + Noise.ReferenceWidthError * Noise.ReferenceWidthError) * lr * lr;
        var e2 = Noise.FluxRatioError * Noise.FluxRatioError;
        var lost = _lost.Amplitude(x0, y0, k);
        return new ScoreSample(sn, sr, Noise.NewVarianceFactor * vn + Noise.ReferenceVarianceFactor * vr, mn + mr, astrometric, width, e2 * sr * sr, lost * lost);
    }

    /// <summary>
    /// S and S_corr at a pixel exactly as the full map computes them (<see cref="ZogySubtraction"/>): the score and its
    /// variance from the kernels at zero offset, the astrometric and width terms from differences of S_N and S_R between
    /// neighbouring pixels (one-sided at x = 0 and y = 0). NaN at masked pixels.
    /// </summary>
    public (double Score, double Corrected) PixelScore(int x, int y)
    {
        var (score, corrected) = PixelMaps(x, y, x + 1, y + 1);
        return (score[0], corrected[0]);
    }

    /// <summary>
    /// S and S_corr over the box [x0, x1) x [y0, y1) (row-major), as the full map has them: S_N and S_R are summed once per
    /// pixel of the box and its one-pixel border, and the neighbour terms taken from those sums.
    /// </summary>
    public (float[] Score, float[] Corrected) PixelMaps(int x0, int y0, int x1, int y1)
    {
        var (w, h) = (x1 - x0, y1 - y0);
        if (w <= 0 || h <= 0) return ([], []);
        var (bw, bh) = (w + 2, h + 2);
        var sn = new double[bw * bh];
        var sr = new double[bw * bh];
        var variance = new double[w * h];
        var masked = new bool[w * h];
        var k = Centre;
        var lightScale = Noise.FluxScaleNew / Noise.FluxScaleReference;
        var (en2, er2) = (Math.Pow(Noise.NewModelError * lightScale, 2), Noise.ReferenceModelError * Noise.ReferenceModelError);
        var (bn, br) = (Noise.SigmaNew * Noise.SigmaNew, Noise.SigmaReference * Noise.SigmaReference);
        var e2 = Noise.FluxRatioError * Noise.FluxRatioError;
        Parallel.For(0, bh, j =>
        {
            var y = y0 - 1 + j;
            for (var i = 0; i < bw; i++)
            {
                var x = x0 - 1 + i;
                var inner = i >= 1 && j >= 1 && i <= w && j <= h;
                // A masked pixel still has S_N and S_R (its neighbours' differences use them), but no S_corr.
                if (inner && IsMasked(x, y)) masked[(j - 1) * w + i - 1] = true;
                var (n, r, vn, vr, mn, mr) = Sums(x, y, k, inner, en2, er2, bn, br);
                (sn[j * bw + i], sr[j * bw + i]) = (n, r);
                if (!inner || masked[(j - 1) * w + i - 1]) continue;
                var lost = _lost.Amplitude(x, y, k);
                variance[(j - 1) * w + i - 1] = Noise.NewVarianceFactor * vn + Noise.ReferenceVarianceFactor * vr + mn + mr + e2 * r * r + lost * lost;
            }
        });
        var (sx2, sy2) = (Noise.AstrometricRmsX * Noise.AstrometricRmsX, Noise.AstrometricRmsY * Noise.AstrometricRmsY);
        var w2 = Noise.NewWidthError * Noise.NewWidthError + Noise.ReferenceWidthError * Noise.ReferenceWidthError;
        var score = new float[w * h];
        var corrected = new float[w * h];
        for (var j = 1; j <= h; j++)
            for (var i = 1; i <= w; i++)
            {
                var o = (j - 1) * w + i - 1;
                if (masked[o]) { score[o] = corrected[o] = float.NaN; continue; }
                var (x, y) = (x0 - 1 + i, y0 - 1 + j);
                var c = j * bw + i;
                var left = x > 0 ? c - 1 : c;
                var down = y > 0 ? c - bw : c;
                var (right, up) = (c + 1, c + bw);
                var (hx, hy) = (x > 0 ? 2.0 : 1.0, y > 0 ? 2.0 : 1.0);
                var (gnx, grx) = ((sn[right] - sn[left]) / hx, (sr[right] - sr[left]) / hx);
                var (gny, gry) = ((sn[up] - sn[down]) / hy, (sr[up] - sr[down]) / hy);
                var lapR = sr[left] + sr[right] + sr[down] + sr[up] - 4 * sr[c];
                var v = variance[o] + sx2 * (gnx * gnx + grx * grx) + sy2 * (gny * gny + gry * gry) + w2 * lapR * lapR;
                var sv = sn[c] - sr[c];
                score[o] = (float)sv;
                corrected[o] = v > 0 ? (float)(sv / Math.Sqrt(v)) : float.NaN;
            }
        return (score, corrected);
    }

    /// <summary>S_N and S_R at a pixel, and (when <paramref name="withVariance"/>) the noise and model-error variance sums.</summary>
    private (double N, double R, double Vn, double Vr, double Mn, double Mr) Sums(int x0, int y0, ShiftedKernels k, bool withVariance,
        double en2, double er2, double bn, double br)
    {
        var sums = new PixelSums(k, withVariance, _newVariance, _referenceVariance, en2, er2, bn, br);
        WalkKernelBox(x0, y0, k, ref sums);
        return (sums.Sn, sums.Sr, sums.Vn, sums.Vr, sums.Mn, sums.Mr);
    }

    /// <summary>
    /// Feeds every unmasked pixel under the kernel box at (x0, y0) to the accumulator, row by row as the kernels lie
    /// (image pixel (x0 − u, y0 − v) against box cell (u, v)). A struct type argument makes the JIT compile one loop per
    /// accumulator with its <see cref="IKernelBoxSum.Add"/> inlined (detection's hot path).
    /// </summary>
    private void WalkKernelBox<T>(int x0, int y0, ShiftedKernels k, ref T sum) where T : struct, IKernelBoxSum
    {
        var r = k.Radius;
        var side = k.Side;
        for (var v = -r; v <= r; v++)
        {
            var y = y0 - v;
            if (y < 0 || y >= Height) continue;
            var j = y - _originY;
            if (j < 0 || j >= _windowHeight) throw new ArgumentOutOfRangeException(nameof(y0), $"the kernel box at ({x0}, {y0}) leaves the window");
            var rowStart = j * _windowWidth;
            var boxRow = (v + r) * side + r;
            for (var u = -r; u <= r; u++)
            {
                var x = x0 - u;
                if (x < 0 || x >= Width) continue;
                var i = x - _originX;
                if (i < 0 || i >= _windowWidth) throw new ArgumentOutOfRangeException(nameof(x0), $"the kernel box at ({x0}, {y0}) leaves the window");
                var p = rowStart + i;
                if (_masked[p]) continue;
                sum.Add(p, boxRow + u, _new[p], _reference[p]);
            }
        }
    }

    /// <summary>What a walk over the kernel box sums: p the window pixel, b the box cell, the new and reference images' values there.</summary>
    private interface IKernelBoxSum
    {
        void Add(int p, int b, double nValue, double rValue);
    }

    /// <summary>Every local term of <see cref="Evaluate"/>: S_N, S_R, their analytic gradients, S_R's Laplacian (the width term's), noise and model-error variances.</summary>
    private struct ScoreTermSums(ShiftedKernels k, float[]? newVariance, float[]? referenceVariance, double en2, double er2, double bn, double br) : IKernelBoxSum
    {
        public double Sn, Sr, Gnx, Gny, Grx, Gry, Lr, Vn, Vr, Mn, Mr;

        public void Add(int p, int b, double nValue, double rValue)
        {
            var (kn, kr) = (k.New[b], k.Reference[b]);
            Sn += kn * nValue;
            Sr += kr * rValue;
            Gnx += k.NewDx[b] * nValue;
            Gny += k.NewDy[b] * nValue;
            Grx += k.ReferenceDx[b] * rValue;
            Gry += k.ReferenceDy[b] * rValue;
            Lr += k.ReferenceLaplacian[b] * rValue;
            var (kn2, kr2) = (kn * kn, kr * kr);
            Vn += kn2 * Variance(newVariance, p, bn);
            Vr += kr2 * Variance(referenceVariance, p, br);
            Mn += kn2 * en2 * rValue * rValue;
            Mr += kr2 * er2 * rValue * rValue;
        }
    }

    /// <summary>S_N and S_R at a pixel of the full map and, when withVariance, the noise and model-error variance sums.</summary>
    private struct PixelSums(ShiftedKernels k, bool withVariance, float[]? newVariance, float[]? referenceVariance, double en2, double er2, double bn, double br) : IKernelBoxSum
    {
        public double Sn, Sr, Vn, Vr, Mn, Mr;

        public void Add(int p, int b, double nValue, double rValue)
        {
            var (kn, kr) = (k.New[b], k.Reference[b]);
            Sn += kn * nValue;
            Sr += kr * rValue;
            if (!withVariance) return;
            var (kn2, kr2) = (kn * kn, kr * kr);
            Vn += kn2 * Variance(newVariance, p, bn);
            Vr += kr2 * Variance(referenceVariance, p, br);
            var r2 = rValue * rValue;
            Mn += kn2 * en2 * r2;
            Mr += kr2 * er2 * r2;
        }
    }

    /// <summary>
    /// A copy of the part of the inputs around (x0, y0) that a score within <paramref name="halfSize"/> pixels of it
    /// needs, with extra light added to the new image (and its Poisson variance to the new variance map): the inputs
    /// are not changed. Each addition is a stamp (row-major, side odd) centred on an integer pixel.
    /// </summary>
    public LocalScore Window(int x0, int y0, int halfSize, IEnumerable<AddedLight> added)
    {
        ArgumentNullException.ThrowIfNull(added);
        var reach = halfSize + Centre.Radius + 2;
        var (ox, oy) = (Math.Max(0, x0 - reach), Math.Max(0, y0 - reach));
        var (ex, ey) = (Math.Min(Width, x0 + reach + 1), Math.Min(Height, y0 + reach + 1));
        var (ww, wh) = (ex - ox, ey - oy);
        if (ww <= 0 || wh <= 0) throw new ArgumentOutOfRangeException(nameof(x0), $"({x0}, {y0}) is off the {Width} x {Height} image");
        var n = new float[ww * wh];
        var r = new float[ww * wh];
        var nv = new float[ww * wh];
        var rv = _referenceVariance is null ? null : new float[ww * wh];
        var masked = new bool[ww * wh];
        var d = _difference is null ? null : new float[ww * wh];
        var du = _uncertainty is null ? null : new float[ww * wh];
        for (var j = 0; j < wh; j++)
        {
            var src = (oy + j - _originY) * _windowWidth + ox - _originX;
            if (d is not null) Array.Copy(_difference!, src, d, j * ww, ww);
            if (du is not null) Array.Copy(_uncertainty!, src, du, j * ww, ww);
            Array.Copy(_new, src, n, j * ww, ww);
            Array.Copy(_reference, src, r, j * ww, ww);
            Array.Copy(_masked, src, masked, j * ww, ww);
            if (_newVariance is null) Array.Fill(nv, (float)(Noise.SigmaNew * Noise.SigmaNew), j * ww, ww);
            else Array.Copy(_newVariance, src, nv, j * ww, ww);
            if (rv is not null) Array.Copy(_referenceVariance!, src, rv, j * ww, ww);
        }
        var lights = added.ToList();
        foreach (var light in lights)
        {
            var h = light.Side / 2;
            for (var b = 0; b < light.Side; b++)
            {
                var j = light.Y - h + b - oy;
                if (j < 0 || j >= wh) continue;
                for (var a = 0; a < light.Side; a++)
                {
                    var i = light.X - h + a - ox;
                    if (i < 0 || i >= ww) continue;
                    var p = j * ww + i;
                    if (masked[p]) continue;
                    n[p] += (float)light.Flux[b * light.Side + a];
                    nv[p] += (float)light.Variance[b * light.Side + a];
                }
            }
        }
        if (d is not null && du is not null) AddDifferenceShare(lights, x0, y0, halfSize, ox, oy, ww, wh, masked, d, du);
        return new LocalScore(Kernels, Centre, Noise, Width, Height, n, r, nv, rv, d, du, masked, _lost, ox, oy, ww, wh);
    }

    /// <summary>
    /// D's share of the added light, k_d (x) L, and of its variance (N's share of D's variance, w_n V_L / sigma_n^2, in
    /// flux units as <see cref="DifferenceUncertainty"/> has it), within halfSize + 1 of (x0, y0): where PSF fits on D
    /// around the window's centre read.
    /// </summary>
    private void AddDifferenceShare(List<AddedLight> lights, int x0, int y0, int halfSize, int ox, int oy, int ww, int wh, bool[] masked, float[] d, float[] du)
    {
        var kd = Centre.Difference;
        var (r, side) = (Centre.Radius, Centre.Side);
        var (fn, fr) = (Noise.FluxScaleNew, Noise.FluxScaleReference);
        var (sn2, sr2) = (Noise.SigmaNew * Noise.SigmaNew, Noise.SigmaReference * Noise.SigmaReference);
        var wn = sn2 * fr * fr / (sn2 * fr * fr + sr2 * fn * fn);
        var fd = Kernels.DifferenceFluxScale;
        var reach = halfSize + 1;
        for (var y = Math.Max(oy, y0 - reach); y <= Math.Min(oy + wh - 1, y0 + reach); y++)
            for (var x = Math.Max(ox, x0 - reach); x <= Math.Min(ox + ww - 1, x0 + reach); x++)
            {
                var p = (y - oy) * ww + x - ox;
                if (masked[p]) continue;
                double share = 0, variance = 0;
                foreach (var light in lights)
                {
                    var h = light.Side / 2;
                    // D(x) = sum_u k_d(u) L(x - u): L's pixel (X - h + a, Y - h + b) is u = x - that away.
                    for (var b = 0; b < light.Side; b++)
                    {
                        var v = y - (light.Y - h + b);
                        if (v < -r || v > r) continue;
                        for (var a = 0; a < light.Side; a++)
                        {
                            var u = x - (light.X - h + a);
                            if (u < -r || u > r) continue;
                            share += kd[(v + r) * side + u + r] * light.Flux[b * light.Side + a];
                        }
                    }
                    var (lx, ly) = (x - light.X + h, y - light.Y + h);
                    if (lx >= 0 && ly >= 0 && lx < light.Side && ly < light.Side) variance += light.Variance[ly * light.Side + lx];
                }
                d[p] += (float)share;
                var sigma = (double)du[p];
                du[p] = (float)Math.Sqrt(sigma * sigma + wn * variance / sn2 / (fd * fd));
            }
    }

    private static double Variance(float[]? variance, int p, double background)
    {
        if (variance is null) return background;
        double v = variance[p];
        return double.IsFinite(v) && v >= 0 ? v : background;
    }
}

/// <summary>Light added to a window of the new image: a Side x Side stamp (row-major) centred on pixel (X, Y), in N's unit, with its variance.</summary>
public sealed record AddedLight(int X, int Y, int Side, double[] Flux, double[] Variance);
