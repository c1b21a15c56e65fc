using Rapid.Pipeline.Fft;
using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// Proper image subtraction of Zackay, Ofek and Gal-Yam (2016, ApJ 830, 27; "ZOGY") through FFTW (full-size transforms
/// in float32, every Fourier-space ratio in float64, the small-grid kernels in float64):
///   D^ = (F_r P_r^ N^ - F_n P_n^ R^) / sqrt(sigma_n^2 F_r^2 |P_r^|^2 + sigma_r^2 F_n^2 |P_n^|^2)   (eq. 13)
///   P_D^ = F_r F_n P_r^ P_n^ / (F_D sqrt(...)),  F_D = F_r F_n / sqrt(sigma_n^2 F_r^2 + sigma_r^2 F_n^2)   (14, 15)
///   S^ = F_D D^ conj(P_D^) = k_n^ N^ - k_r^ R^                                                      (12, 28, 29)
///   S_corr = S / sqrt(V(S_N) + V(S_R) + V_ast),  V(S_N) = V_n (x) k_n^2,  V(S_R) = V_r (x) k_r^2      (25-27)
///   V_ast = sigma_x^2 [(dS_N/dx)^2 + (dS_R/dx)^2] + sigma_y^2 [(dS_N/dy)^2 + (dS_R/dy)^2]            (30-33)
/// Both ratios are bounded by construction (|numerator| &lt;= |N^| / sigma_n + |R^| / sigma_r times the flux scales);
/// a frequency where both PSF transforms vanish contributes nothing rather than 0/0.
/// Masked (NaN) pixels of either image are set to the background (0) in both before the transforms, given zero
/// variance (they carry no noise), and come back NaN. Images are zero-padded by at least half a PSF stamp to FFT-friendly sizes (4088 -> 4116);
/// the padding has zero variance, so S_corr stays normalised near the edges, and it is cut off the outputs.
/// PSFs are embedded with their centre at (0, 0), so no sub-pixel phase enters D.
/// </summary>
public static unsafe class ZogySubtraction
{

    /// <summary>
    /// newImage N and reference R on the same grid; astrometricRmsX/Y: sigma_x, sigma_y in pixels, the rms of the
    /// registration residuals (0 to leave out the astrometric term).
    /// </summary>
    public static ZogyResult Subtract(ZogyImage newImage, ZogyImage reference, double astrometricRmsX = 0, double astrometricRmsY = 0)
    {
        ArgumentNullException.ThrowIfNull(newImage);
        ArgumentNullException.ThrowIfNull(reference);
        newImage.Validate("new");
        reference.Validate("reference");
        if (newImage.Width != reference.Width || newImage.Height != reference.Height)
            throw new ArgumentException($"the new image is {newImage.Width} x {newImage.Height} but the reference is {reference.Width} x {reference.Height}; resample the reference onto the new grid first");
        if (!(astrometricRmsX >= 0) || !(astrometricRmsY >= 0)) throw new ArgumentException($"the astrometric rms must be non-negative, not ({astrometricRmsX}, {astrometricRmsY})");

        var (w, h) = (newImage.Width, newImage.Height);
        // The transforms are periodic: a margin of half a PSF stamp keeps the kernels of stars near one edge from
        // wrapping onto the opposite edge (4088 + 12 -> 4116).
        var margin = Math.Max(newImage.Psf.Size, reference.Psf.Size) / 2 + 1;
        var pw = FftSizes.NextFriendly(Math.Max(w + margin, Math.Max(newImage.Psf.Size, reference.Psf.Size)));
        var ph = FftSizes.NextFriendly(Math.Max(h + margin, Math.Max(newImage.Psf.Size, reference.Psf.Size)));
        var masked = Mask(newImage.Pixels, reference.Pixels);

        var (fn, fr) = (newImage.FluxScale, reference.FluxScale);
        var (sn2, sr2) = (newImage.NoiseSigma * newImage.NoiseSigma, reference.NoiseSigma * reference.NoiseSigma);
        var fd = fn * fr / Math.Sqrt(sn2 * fr * fr + sr2 * fn * fn);
        var floor = 1e-200 * (sn2 * fr * fr + sr2 * fn * fn);
        var stampSize = Math.Max(newImage.Psf.Size, reference.Psf.Size);

        // P_D, k_n and k_r are compact (a few PSF widths), so they are made on a small grid of 4 stamp widths and
        // wrapped into the full one: three full-size transforms fewer than making them there.
        var kernels = SmallGridKernels(newImage.Psf, reference.Psf, Math.Min(pw, FftSizes.NextFriendly(4 * stampSize)),
            Math.Min(ph, FftSizes.NextFriendly(4 * stampSize)), fn, fr, sn2, sr2, fd, floor, stampSize);

        // The full-size transforms are float32 (FFTW's single precision): the images' dynamic range (a few 1e4 between
        // the brightest unsaturated pixel and the noise) is far inside float's 1e-7 roundoff, and the ratios below are
        // evaluated in double and stay bounded whatever the PSF spectra's precision (a frequency where both are at
        // roundoff level gets noise-like, still unit-variance, weights). The small-grid kernels and P_D are float64.
        // All full-size arrays are FFTW-aligned native buffers the cached plans execute on directly: no copies in and
        // out of the transform, and the inverse transforms' 1 / (pw ph) is folded into the passes that read them.
        using var fft = new Fft2D(pw, ph);
        var rowLength = 2 * fft.SpectrumWidth;
        var scale = 1.0 / fft.RealLength;
        using var real = FftwBuffer.Rent(fft.RealLength);
        using var nHat = FftwBuffer.Rent(fft.SpectrumLength);
        using var rHat = FftwBuffer.Rent(fft.SpectrumLength);
        using var pnHat = FftwBuffer.Rent(fft.SpectrumLength);
        using var prHat = FftwBuffer.Rent(fft.SpectrumLength);

        // Forward transforms of the images and PSFs (a PSF's rows beyond its stamp are zero: half a transform each); the
        // image spectra become S_N^ and S_R^ in place.
        fft.Forward(Pad(newImage.Pixels, masked, w, h, pw, ph, real), nHat);
        fft.Forward(Pad(reference.Pixels, masked, w, h, pw, ph, real), rHat);
        fft.ForwardCompact(Embed(newImage.Psf, pw, ph, real), newImage.Psf.Centre, pnHat);
        fft.ForwardCompact(Embed(reference.Psf, pw, ph, real), reference.Psf.Centre, prHat);

        float[] difference;
        using (var dHat = FftwBuffer.Rent(fft.SpectrumLength))
        {
            var (a, b) = (sn2 * fr * fr, sr2 * fn * fn);
            var (cnScale, crScale) = (fn * fr * fr, fr * fn * fn);
            Parallel.For(0, ph, row =>
            {
                var start = (long)row * rowLength;
                // Pointers: no bounds checks in the 8.5 M-element loop (each row is rowLength long in every buffer).
                var pn = pnHat.Pointer + start;
                var pr = prHat.Pointer + start;
                var nn = nHat.Pointer + start;
                var rr = rHat.Pointer + start;
                var dd = dHat.Pointer + start;
                for (var k = 0; k < rowLength; k += 2)
                {
                    double pnRe = pn[k], pnIm = pn[k + 1], prRe = pr[k], prIm = pr[k + 1];
                    double nRe = nn[k], nIm = nn[k + 1], rRe = rr[k], rIm = rr[k + 1];
                    var pn2 = pnRe * pnRe + pnIm * pnIm;
                    var pr2 = prRe * prRe + prIm * prIm;
                    var den2 = a * pr2 + b * pn2;
                    if (!(den2 > floor))
                    {
                        dd[k] = dd[k + 1] = nn[k] = nn[k + 1] = rr[k] = rr[k + 1] = 0;
                        continue;
                    }
                    var inv = 1 / Math.Sqrt(den2);
                    // D^ (eq. 13)
                    dd[k] = (float)((fr * (prRe * nRe - prIm * nIm) - fn * (pnRe * rRe - pnIm * rIm)) * inv);
                    dd[k + 1] = (float)((fr * (prRe * nIm + prIm * nRe) - fn * (pnRe * rIm + pnIm * rRe)) * inv);
                    // S_N^ = k_n^ N^, S_R^ = k_r^ R^ with k_n^ = F_n F_r^2 conj(P_n^) |P_r^|^2 / den2 and
                    // k_r^ = F_r F_n^2 conj(P_r^) |P_n^|^2 / den2 (eq. 28-29); S = S_N - S_R = F_D D (x) conj(P_D) (eq. 12).
                    var inv2 = inv * inv;
                    var cn = cnScale * pr2 * inv2;
                    var cr = crScale * pn2 * inv2;
                    var (knRe, knIm) = (cn * pnRe, -cn * pnIm);
                    var (krRe, krIm) = (cr * prRe, -cr * prIm);
                    nn[k] = (float)(knRe * nRe - knIm * nIm); nn[k + 1] = (float)(knRe * nIm + knIm * nRe);
                    rr[k] = (float)(krRe * rRe - krIm * rIm); rr[k + 1] = (float)(krRe * rIm + krIm * rRe);
                }
            });
            fft.InverseUnnormalised(dHat, real);
            difference = Crop(real, pw, w, h, masked, scale);
        }

        // S_N and S_R, unnormalised (times pw ph).
        using var sN = FftwBuffer.Rent(fft.RealLength);
        fft.InverseUnnormalised(nHat, sN);
        using var sR = FftwBuffer.Rent(fft.RealLength);
        fft.InverseUnnormalised(rHat, sR);

        // Variances of S_N and S_R: the variance images convolved with the squared real-space kernels (eq. 26-27),
        // summed in Fourier space so one inverse transform gives V(S_N) + V(S_R). The squared kernels are compact too.
        var knHat = pnHat;
        var krHat = prHat;
        fft.ForwardCompact(WrapInto(kernels.NewKernelSquared, kernels.Width, kernels.Height, pw, ph, real), kernels.Height / 2, knHat);
        fft.ForwardCompact(WrapInto(kernels.ReferenceKernelSquared, kernels.Width, kernels.Height, pw, ph, real), kernels.Height / 2, krHat);
        fft.Forward(VarianceImage(newImage, masked, pw, ph, real), nHat);
        fft.Forward(VarianceImage(reference, masked, pw, ph, real), rHat);
        Parallel.For(0, ph, row =>
        {
            var start = (long)row * rowLength;
            var nv = nHat.Pointer + start;
            var rv = rHat.Pointer + start;
            var kn = knHat.Pointer + start;
            var kr = krHat.Pointer + start;
            for (var k = 0; k < rowLength; k += 2)
            {
                var re = (double)nv[k] * kn[k] - (double)nv[k + 1] * kn[k + 1] + (double)rv[k] * kr[k] - (double)rv[k + 1] * kr[k + 1];
                var im = (double)nv[k] * kn[k + 1] + (double)nv[k + 1] * kn[k] + (double)rv[k] * kr[k + 1] + (double)rv[k + 1] * kr[k];
                nv[k] = (float)re;
                nv[k + 1] = (float)im;
            }
        });
        var variance = real;
        fft.InverseUnnormalised(nHat, variance);

        var score = new float[(long)w * h];
        var scoreCorrected = new float[(long)w * h];
        var (sx2, sy2) = (astrometricRmsX * astrometricRmsX, astrometricRmsY * astrometricRmsY);
        var astrometricTerm = astrometricRmsX > 0 || astrometricRmsY > 0;
        Parallel.For(0, h, y =>
        {
            var vs = variance.Pointer;
            var ns = sN.Pointer;
            var rs = sR.Pointer;
            // Neighbours for the central differences: the padding (pw > w, ph > h) holds the right and upper ones;
            // only x = 0 and y = 0 are one-sided.
            var down = y > 0 ? y - 1 : 0;
            var gyScale = scale / (y + 1 - down);
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                var p = (long)y * pw + x;
                if (masked[i]) { score[i] = scoreCorrected[i] = float.NaN; continue; }
                var v = vs[p] * scale;
                if (astrometricTerm)
                {
                    // sigma_x^2 (dS/dx)^2 + sigma_y^2 (dS/dy)^2 for S_N and S_R (eq. 30-33), central differences.
                    var left = x > 0 ? p - 1 : p;
                    var gxScale = scale / (p + 1 - left);
                    var (pUp, pDown) = (p + pw, (long)down * pw + x);
                    var gxn = ((double)ns[p + 1] - ns[left]) * gxScale;
                    var gyn = ((double)ns[pUp] - ns[pDown]) * gyScale;
                    var gxr = ((double)rs[p + 1] - rs[left]) * gxScale;
                    var gyr = ((double)rs[pUp] - rs[pDown]) * gyScale;
                    v += sx2 * gxn * gxn + sy2 * gyn * gyn + sx2 * gxr * gxr + sy2 * gyr * gyr;
                }
                var vf = (float)v;
                var s = ((double)ns[p] - rs[p]) * scale;
                score[i] = (float)s;
                scoreCorrected[i] = vf > 0 ? (float)(s / Math.Sqrt(vf)) : float.NaN;
            }
        });
        return new ZogyResult(w, h, difference, score, scoreCorrected, kernels.DifferencePsf, fd);
    }

    private static bool[] Mask(float[] a, float[] b)
    {
        var masked = new bool[a.Length];
        Parallel.For(0, (a.Length + 65535) / 65536, chunk =>
        {
            for (var i = chunk * 65536; i < Math.Min(a.Length, (chunk + 1) * 65536); i++) masked[i] = !float.IsFinite(a[i]) || !float.IsFinite(b[i]);
        });
        return masked;
    }

    private static FftwBuffer Pad(float[] pixels, bool[] masked, int w, int h, int pw, int ph, FftwBuffer target)
    {
        Parallel.For(0, ph, y =>
        {
            var row = target.Slice((long)y * pw, pw);
            if (y >= h) { row.Clear(); return; }
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                row[x] = masked[i] ? 0 : pixels[i];
            }
            row[w..].Clear();
        });
        return target;
    }

    /// <summary>Total variance per pixel; zero at masked pixels and in the padding, which hold a noiseless 0.</summary>
    private static FftwBuffer VarianceImage(ZogyImage image, bool[] masked, int pw, int ph, FftwBuffer target)
    {
        var background = image.NoiseSigma * image.NoiseSigma;
        Parallel.For(0, ph, y =>
        {
            var row = target.Slice((long)y * pw, pw);
            row.Clear();
            if (y >= image.Height) return;
            for (var x = 0; x < image.Width; x++)
            {
                var i = y * image.Width + x;
                if (masked[i]) continue;
                var v = image.Variance is null ? background : image.Variance[i];
                if (!double.IsFinite(v) || v < 0) v = background;
                row[x] = (float)v;
            }
        });
        return target;
    }

    /// <summary>The PSF stamp in float32 with its centre at (0, 0) of a zeroed pw x ph buffer (negative offsets wrap).</summary>
    private static FftwBuffer Embed(PsfModel psf, int pw, int ph, FftwBuffer target)
    {
        target.Span.Clear();
        var span = target.Span;
        var c = psf.Centre;
        for (var j = 0; j < psf.Size; j++)
        {
            var y = (j - c + ph) % ph;
            for (var i = 0; i < psf.Size; i++) span[y * pw + (i - c + pw) % pw] = (float)psf.Stamp[j * psf.Size + i];
        }
        return target;
    }

    private static double[] Transform(Fft2DDouble fft, double[] image, int spectrumLength)
    {
        var spectrum = new double[spectrumLength];
        fft.Forward(image, spectrum);
        return spectrum;
    }

    /// <summary>The w x h corner of an unnormalised inverse transform, times scale; NaN where masked.</summary>
    private static float[] Crop(FftwBuffer real, int pw, int w, int h, bool[] masked, double scale)
    {
        var result = new float[(long)w * h];
        var s = (float)scale;
        Parallel.For(0, h, y =>
        {
            var row = real.Slice((long)y * pw, w);
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                result[i] = masked[i] ? float.NaN : row[x] * s;
            }
        });
        return result;
    }

    private sealed record Kernels(int Width, int Height, double[] NewKernelSquared, double[] ReferenceKernelSquared, PsfModel DifferencePsf);

    /// <summary>P_D (eq. 14) as a stamp, and k_n^2, k_r^2 in real space (origin at (0, 0)) on a mw x mh grid.</summary>
    private static Kernels SmallGridKernels(PsfModel pn, PsfModel pr, int mw, int mh, double fn, double fr, double sn2, double sr2, double fd, double floor, int stampSize)
    {
        using var fft = new Fft2DDouble(mw, mh);
        var length = (int)fft.SpectrumLength;
        var pnHat = Transform(fft, pn.EmbedCentred(mw, mh), length);
        var prHat = Transform(fft, pr.EmbedCentred(mw, mh), length);
        var pdHat = new double[length];
        for (var k = 0; k < length; k += 2)
        {
            var (pnRe, pnIm, prRe, prIm) = (pnHat[k], pnHat[k + 1], prHat[k], prHat[k + 1]);
            var pn2 = pnRe * pnRe + pnIm * pnIm;
            var pr2 = prRe * prRe + prIm * prIm;
            var den2 = sn2 * fr * fr * pr2 + sr2 * fn * fn * pn2;
            if (!(den2 > floor))
            {
                pdHat[k] = pdHat[k + 1] = pnHat[k] = pnHat[k + 1] = prHat[k] = prHat[k + 1] = 0;
                continue;
            }
            var pdScale = fr * fn / Math.Sqrt(den2) / fd;
            pdHat[k] = pdScale * (prRe * pnRe - prIm * pnIm);
            pdHat[k + 1] = pdScale * (prRe * pnIm + prIm * pnRe);
            var cn = fn * fr * fr * pr2 / den2;
            var cr = fr * fn * fn * pn2 / den2;
            (pnHat[k], pnHat[k + 1]) = (cn * pnRe, -cn * pnIm);
            (prHat[k], prHat[k + 1]) = (cr * prRe, -cr * prIm);
        }
        var pd = new double[mw * mh];
        fft.Inverse(pdHat, pd);
        var kn = new double[mw * mh];
        fft.Inverse(pnHat, kn);
        var kr = new double[mw * mh];
        fft.Inverse(prHat, kr);
        for (var i = 0; i < kn.Length; i++) (kn[i], kr[i]) = (kn[i] * kn[i], kr[i] * kr[i]);

        var c = stampSize / 2;
        var stamp = new double[stampSize * stampSize];
        for (var j = 0; j < stampSize; j++)
        {
            var y = (j - c + mh) % mh;
            for (var i = 0; i < stampSize; i++) stamp[j * stampSize + i] = pd[y * mw + (i - c + mw) % mw];
        }
        var normalised = new PsfModel(stamp, stampSize, 1, PsfMethod.ZogyDifference, 0);
        var psf = new PsfModel(stamp, stampSize, PsfShape.HalfMaximumFwhm(normalised.Stamp, stampSize), PsfMethod.ZogyDifference, 0);
        return new Kernels(mw, mh, kn, kr, psf);
    }

    /// <summary>An origin-at-(0, 0) mw x mh array wrapped into a zeroed pw x ph one (offsets beyond half wrap negative).</summary>
    private static FftwBuffer WrapInto(double[] small, int mw, int mh, int pw, int ph, FftwBuffer target)
    {
        target.Span.Clear();
        var span = target.Span;
        for (var j = 0; j < mh; j++)
        {
            var y = j <= mh / 2 ? j : j - mh + ph;
            for (var i = 0; i < mw; i++)
            {
                var x = i <= mw / 2 ? i : i - mw + pw;
                span[y * pw + x] = (float)small[j * mw + i];
            }
        }
        return target;
    }
}
