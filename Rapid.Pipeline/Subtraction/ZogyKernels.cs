using Rapid.Pipeline.Fft;
using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// The real-space kernels of one ZOGY subtraction (Zackay, Ofek and Gal-Yam 2016, ApJ 830, 27), made on a small odd
/// grid (at least four PSF stamps wide) where they are compact:
///   k_n^ = F_n F_r^2 conj(P_n^) |P_r^|^2 / den,  k_r^ = F_r F_n^2 conj(P_r^) |P_n^|^2 / den   (eq. 28-29)
///   P_D^ = F_r F_n P_r^ P_n^ / (F_D sqrt(den)),  k_d^ = F_r P_r^ / (F_D sqrt(den))           (eq. 13-14)
/// with den = sigma_n^2 F_r^2 |P_r^|^2 + sigma_r^2 F_n^2 |P_n^|^2, so that S = k_n (x) N - k_r (x) R and the
/// difference image's share of N is k_d (x) N (in N's flux unit). The score of a point source of flux alpha (in N's unit)
/// peaks at alpha F_S, F_S = F_n^2 F_r^2 sum(|P_n^|^2 |P_r^|^2 / den) / (grid pixels) (eq. 41-43 of the paper: the
/// optimal PSF photometry alpha = S / F_S, sigma_alpha = sqrt(V(S)) / F_S).
/// The grid is odd so that sub-pixel phase ramps (the shift theorem) are exact on the half spectra: <see cref="At"/>
/// gives the kernels a source at a sub-pixel offset sees, and their derivatives, without resampling any image.
/// </summary>
public sealed class ZogyKernels
{
    private readonly Fft2DDouble _fft;
    private readonly double[] _knHat, _krHat, _pdHat, _kdHat;
    /// <summary>g^ = k_n^ P_n^ = F_n F_r^2 |P_n^|^2 |P_r^|^2 / den per half-spectrum bin: the spectrum of a point source's score.</summary>
    private readonly double[] _scoreHat;
    private readonly object _gate = new();

    internal ZogyKernels(PsfModel pn, PsfModel pr, double fn, double fr, double sigmaN, double sigmaR)
    {
        var stamp = Math.Max(pn.Size, pr.Size);
        Size = FftSizes.NextOddFriendly(4 * stamp);
        StampSize = stamp;
        var (sn2, sr2) = (sigmaN * sigmaN, sigmaR * sigmaR);
        var fd = fn * fr / Math.Sqrt(sn2 * fr * fr + sr2 * fn * fn);
        var floor = 1e-200 * (sn2 * fr * fr + sr2 * fn * fn);
        _fft = new Fft2DDouble(Size, Size);
        var length = (int)_fft.SpectrumLength;
        var pnHat = new double[length];
        var prHat = new double[length];
        _fft.Forward(pn.EmbedCentred(Size, Size), pnHat);
        _fft.Forward(pr.EmbedCentred(Size, Size), prHat);
        _knHat = new double[length];
        _krHat = new double[length];
        _pdHat = new double[length];
        _kdHat = new double[length];
        _scoreHat = new double[length / 2];
        double fs = 0;
        for (var k = 0; k < length; k += 2)
        {
            var (pnRe, pnIm, prRe, prIm) = (pnHat[k], pnHat[k + 1], prHat[k], prHat[k + 1]);
            var pn2 = pnRe * pnRe + pnIm * pnIm;
            var pr2 = prRe * prRe + prIm * prIm;
            var den2 = sn2 * fr * fr * pr2 + sr2 * fn * fn * pn2;
            if (!(den2 > floor)) continue;
            var root = Math.Sqrt(den2);
            var pdScale = fr * fn / root / fd;
            _pdHat[k] = pdScale * (prRe * pnRe - prIm * pnIm);
            _pdHat[k + 1] = pdScale * (prRe * pnIm + prIm * pnRe);
            var kdScale = fr / root / fd;
            (_kdHat[k], _kdHat[k + 1]) = (kdScale * prRe, kdScale * prIm);
            var cn = fn * fr * fr * pr2 / den2;
            var cr = fr * fn * fn * pn2 / den2;
            (_knHat[k], _knHat[k + 1]) = (cn * pnRe, -cn * pnIm);
            (_krHat[k], _krHat[k + 1]) = (cr * prRe, -cr * prIm);
            // Half spectrum of an odd grid: every column but kx = 0 stands for itself and its mirror.
            var kx = (k / 2) % _fft.SpectrumWidth;
            _scoreHat[k / 2] = fn * fr * fr * pn2 * pr2 / den2;
            fs += (kx == 0 ? 1 : 2) * fn * _scoreHat[k / 2];
        }
        ScoreFluxScale = fs / ((double)Size * Size);
        DifferenceFluxScale = fd;

        // The real-space kernels at zero offset (origin at (0, 0)); their reach is where the score kernels hold all but
        // 1e-8 of their squared sum, so the S a local sum gives is within a tenth of a sigma of the full transform's even
        // beside stars 10^4 sigma bright (LocalScoreTests). At 1e-6 the tail the box cut left
        // up to 0.4 sigma of S_corr within ~15 px of such stars.
        NewKernel = Inverse(_knHat, 0, 0, derivative: 0);
        ReferenceKernel = Inverse(_krHat, 0, 0, derivative: 0);
        Reach = Math.Max(ReachOf(NewKernel), ReachOf(ReferenceKernel));
        var pd = Inverse(_pdHat, 0, 0, derivative: 0);
        var c = stamp / 2;
        var psf = new double[stamp * stamp];
        for (var j = 0; j < stamp; j++)
            for (var i = 0; i < stamp; i++) psf[j * stamp + i] = pd[Wrap(j - c) * Size + Wrap(i - c)];
        var normalised = new PsfModel(psf, stamp, 1, PsfMethod.ZogyDifference, 0);
        DifferencePsf = new PsfModel(psf, stamp, PsfShape.HalfMaximumFwhm(normalised.Stamp, stamp), PsfMethod.ZogyDifference, 0);
    }

    /// <summary>Side of the square odd grid the kernels are made on.</summary>
    public int Size { get; }
    /// <summary>The wider input PSF stamp's side (the P_D stamp's).</summary>
    public int StampSize { get; }
    /// <summary>F_S: the score per unit flux (in N's unit) of a point source at its own position.</summary>
    public double ScoreFluxScale { get; }
    /// <summary>F_D (eq. 15).</summary>
    public double DifferenceFluxScale { get; }
    /// <summary>P_D (eq. 14) as a stamp of <see cref="StampSize"/>, renormalised to sum 1.</summary>
    public PsfModel DifferencePsf { get; }
    /// <summary>Half-width (pixels) of the box that holds both score kernels.</summary>
    public int Reach { get; }
    /// <summary>k_n in real space on the Size x Size grid, origin at (0, 0), negative offsets wrapped.</summary>
    public double[] NewKernel { get; }
    /// <summary>k_r likewise.</summary>
    public double[] ReferenceKernel { get; }

    /// <summary>
    /// k_r as the reference shifted by (shiftX, shiftY) is seen through: k_r(u - shift) on the Size x Size grid (origin
    /// at (0, 0)). Shifting R by a phase ramp is convolving it with this kernel instead, so S_R's variance is the variance
    /// map convolved with its square (not the square of k_r shifted afterwards).
    /// </summary>
    public double[] ReferenceKernelShifted(double shiftX, double shiftY) => Inverse(_krHat, -shiftX, -shiftY, derivative: 0);

    /// <summary>
    /// The kernels a source at (x0 + dx, y0 + dy) is seen through, for the reference shifted by (shiftX, shiftY)
    /// (the registration correction applied to R): box arrays of (2 radius + 1)^2 with index (v + radius) * (2 radius + 1)
    /// + u + radius holding k(u + dx, v + dy), so S_N(x0 + dx, y0 + dy) = sum over (u, v) of box[u, v] N(x0 - u, y0 - v);
    /// the difference kernel k_d at zero offset (D's share of N: D(x) = sum box[u] N(x - u)); and P_D of a source at
    /// (x0 + dx, y0 + dy) as it falls on pixel (x0 + u, y0 + v).
    /// </summary>
    public ShiftedKernels At(double dx, double dy, double shiftX, double shiftY, int radius)
    {
        if (radius < 0 || 2 * radius + 1 > Size) throw new ArgumentOutOfRangeException(nameof(radius), $"a kernel box of half-width {radius} does not fit the {Size}-pixel grid");
        var (rx, ry) = (dx - shiftX, dy - shiftY);
        return new ShiftedKernels(radius,
            Box(Inverse(_knHat, dx, dy, 0), radius), Box(Inverse(_knHat, dx, dy, 1), radius), Box(Inverse(_knHat, dx, dy, 2), radius), Box(Inverse(_knHat, dx, dy, 3), radius),
            Box(Inverse(_krHat, rx, ry, 0), radius), Box(Inverse(_krHat, rx, ry, 1), radius), Box(Inverse(_krHat, rx, ry, 2), radius), Box(Inverse(_krHat, rx, ry, 3), radius),
            Box(Inverse(_kdHat, 0, 0, 0), radius), Box(Inverse(_pdHat, -dx, -dy, 0), radius));
    }

    /// <summary>
    /// The score profile g(dx, dy) / g(0, 0) of a point source, g = k_n (x) P_n (a real, non-negative spectrum, so g peaks
    /// at the source): what S keeps at a pixel (dx, dy) away from the source's position.
    /// </summary>
    public double ScoreProfile(double dx, double dy)
    {
        var half = _fft.SpectrumWidth;
        double at = 0, peak = 0;
        for (var ky = 0; ky < Size; ky++)
        {
            var ny = ky <= Size / 2 ? ky : ky - Size;
            for (var kx = 0; kx < half; kx++)
            {
                var g = _scoreHat[ky * half + kx];
                var weight = kx == 0 ? 1 : 2;
                peak += weight * g;
                at += weight * g * Math.Cos(2 * Math.PI * (kx * dx + ny * dy) / Size);
            }
        }
        return peak > 0 ? at / peak : double.NaN;
    }

    /// <summary>
    /// The second spectral moments of the score's noise (lambda_xx, lambda_yy, lambda_xy: -d^2 rho / dx dy at 0 of its
    /// normalised covariance rho). For background-limited noise the score's covariance is proportional to g, the score
    /// profile (both have the spectrum |P_n^|^2 |P_r^|^2 / den), so the moments follow from g^.
    /// </summary>
    public (double Xx, double Yy, double Xy) ScoreNoiseCurvature()
    {
        var half = _fft.SpectrumWidth;
        double total = 0, xx = 0, yy = 0, xy = 0;
        for (var ky = 0; ky < Size; ky++)
        {
            var wy = 2 * Math.PI * (ky <= Size / 2 ? ky : ky - Size) / Size;
            for (var kx = 0; kx < half; kx++)
            {
                var wx = 2 * Math.PI * kx / Size;
                var g = _scoreHat[ky * half + kx];
                // A column kx > 0 stands for itself and its mirror (-kx, -ky): same wx^2, wy^2 and wx wy.
                var weight = kx == 0 ? 1 : 2;
                total += weight * g;
                xx += weight * g * wx * wx;
                yy += weight * g * wy * wy;
                xy += weight * g * wx * wy;
            }
        }
        return total > 0 ? (xx / total, yy / total, xy / total) : (double.NaN, double.NaN, double.NaN);
    }

    private int Wrap(int offset) => ((offset % Size) + Size) % Size;

    private double[] Box(double[] kernel, int radius)
    {
        var side = 2 * radius + 1;
        var box = new double[side * side];
        for (var v = -radius; v <= radius; v++)
            for (var u = -radius; u <= radius; u++) box[(v + radius) * side + u + radius] = kernel[Wrap(v) * Size + Wrap(u)];
        return box;
    }

    /// <summary>The smallest half-width of a box about the origin that holds all but 1e-8 of the kernel's squared sum.</summary>
    private int ReachOf(double[] kernel)
    {
        double total = 0;
        foreach (var v in kernel) total += v * v;
        var half = Size / 2;
        for (var radius = 1; radius < half; radius++)
        {
            double inside = 0;
            for (var v = -radius; v <= radius; v++)
                for (var u = -radius; u <= radius; u++) { var k = kernel[Wrap(v) * Size + Wrap(u)]; inside += k * k; }
            if (inside >= (1 - 1e-8) * total) return radius;
        }
        return half;
    }

    /// <summary>
    /// The kernel whose spectrum is given, sampled at (u + dx, v + dy) (shift theorem: times exp(2 pi i (nu . d) / Size));
    /// derivative 1 or 2 gives d/du or d/dv (times 2 pi i nu / Size), 3 the Laplacian (times -|2 pi nu / Size|^2).
    /// </summary>
    private double[] Inverse(double[] spectrum, double dx, double dy, int derivative)
    {
        var half = _fft.SpectrumWidth;
        var ramped = new double[spectrum.Length];
        for (var ky = 0; ky < Size; ky++)
        {
            var ny = ky <= Size / 2 ? ky : ky - Size;
            for (var kx = 0; kx < half; kx++)
            {
                var angle = 2 * Math.PI * (kx * dx + ny * dy) / Size;
                var (c, s) = (Math.Cos(angle), Math.Sin(angle));
                var k = 2 * (ky * half + kx);
                var (re, im) = (spectrum[k] * c - spectrum[k + 1] * s, spectrum[k] * s + spectrum[k + 1] * c);
                if (derivative is 1 or 2)
                {
                    var w = 2 * Math.PI * (derivative == 1 ? kx : ny) / Size;
                    (re, im) = (-w * im, w * re);
                }
                else if (derivative == 3)
                {
                    var w2 = Math.Pow(2 * Math.PI / Size, 2) * ((double)kx * kx + (double)ny * ny);
                    (re, im) = (-w2 * re, -w2 * im);
                }
                ramped[k] = re;
                ramped[k + 1] = im;
            }
        }
        var result = new double[Size * Size];
        lock (_gate) _fft.Inverse(ramped, result);
        return result;
    }
}

/// <summary>
/// The score, difference and P_D kernels for one sub-pixel offset, cut to a (2 Radius + 1)^2 box (see
/// <see cref="ZogyKernels.At"/>): k_n and its x, y derivatives and Laplacian, k_r (at the offset minus the reference
/// shift) and its derivatives and Laplacian, k_d (N's share of the difference image, flux units) and P_D.
/// </summary>
public sealed record ShiftedKernels(int Radius, double[] New, double[] NewDx, double[] NewDy, double[] NewLaplacian,
    double[] Reference, double[] ReferenceDx, double[] ReferenceDy, double[] ReferenceLaplacian, double[] Difference, double[] DifferencePsf)
{
    public int Side => 2 * Radius + 1;
}
