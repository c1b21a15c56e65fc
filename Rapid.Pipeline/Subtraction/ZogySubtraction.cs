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
/// and, built the same way from measured quantities (<see cref="ZogyNoiseModel"/>): the flux-ratio term e^2 S_R^2 (a
/// fractional error e of F_r moves S by e S_R), the model-error terms (epsilon L)^2 in each variance map (what a PSF
/// model leaves of a star, e.g. the pixel-phase aliasing of an undersampled PSF, with L the constant light the
/// reference shows, in each image's flux unit), and the lost-flux term of masked
/// pixels that held light (<see cref="LostFlux"/>). The measured registration offset is applied to R as a phase ramp on
/// R^ (the shift theorem moves R by a fraction of a pixel without resampling it again) and, for V(S_R), as the same
/// shift of k_r before it is squared.
/// Both ratios are bounded by construction (|numerator| &lt;= |N^| / sigma_n + |R^| / sigma_r times the flux scales);
/// a frequency where both PSF transforms vanish contributes nothing rather than 0/0.
/// Masked (NaN) pixels of either image are set to the background (0) in both before the transforms, given zero
/// variance (they carry no noise), and come back NaN. Images are zero-padded by at least half a PSF stamp to FFT-friendly sizes (4088 -> 4116);
/// the padding has zero variance, so S_corr stays normalised near the edges, and it is cut off the outputs.
/// PSFs are embedded with their centre at (0, 0), so no sub-pixel phase enters D. The kernels (<see cref="ZogyKernels"/>)
/// and the inputs are kept in the result, so the score can be evaluated at sub-pixel offsets and with injected light
/// (<see cref="LocalScore"/>) without another transform of the images.
/// </summary>
public static unsafe class ZogySubtraction
{

    /// <summary>
    /// newImage N and reference R on the same grid; astrometricRmsX/Y: sigma_x, sigma_y in pixels, the rms of the
    /// registration residuals (0 to leave out the astrometric term).
    /// </summary>
    public static ZogyResult Subtract(ZogyImage newImage, ZogyImage reference, double astrometricRmsX = 0, double astrometricRmsY = 0) =>
        Subtract(newImage, reference, new ZogyRegistration { AstrometricRmsX = astrometricRmsX, AstrometricRmsY = astrometricRmsY });

    /// <summary>newImage N and reference R on the same grid; registration: the measured registration and flux-ratio errors.</summary>
    public static ZogyResult Subtract(ZogyImage newImage, ZogyImage reference, ZogyRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(newImage);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(registration);
        newImage.Validate("new");
        reference.Validate("reference");
        registration.Validate();
        if (newImage.Width != reference.Width || newImage.Height != reference.Height)
            throw new ArgumentException($"the new image is {newImage.Width} x {newImage.Height} but the reference is {reference.Width} x {reference.Height}; resample the reference onto the new grid first");

        // Both PSFs tapered to zero on a circle within their stamps: the wings of a stamp end somewhere, and where the two
        // models' wings end at different heights (noise in an empirical wing, different profiles) every bright star
        // leaves the stamps' square edge in D and S (a 35 px box of ringing and paired detections). The light the
        // taper takes is part of the flux normalisation the catalog measures on the stars.
        newImage = newImage with { Psf = Apodized(newImage.Psf) };
        reference = reference with { Psf = Apodized(reference.Psf) };
        var (w, h) = (newImage.Width, newImage.Height);
        var (fn, fr) = (newImage.FluxScale, reference.FluxScale);
        var (sn2, sr2) = (newImage.NoiseSigma * newImage.NoiseSigma, reference.NoiseSigma * reference.NoiseSigma);
        var kernels = new ZogyKernels(newImage.Psf, reference.Psf, fn, fr, newImage.NoiseSigma, reference.NoiseSigma);
        var fd = kernels.DifferenceFluxScale;
        var floor = 1e-200 * (sn2 * fr * fr + sr2 * fn * fn);
        var noise = new ZogyNoiseModel
        {
            SigmaNew = newImage.NoiseSigma, SigmaReference = reference.NoiseSigma, FluxScaleNew = fn, FluxScaleReference = fr,
            NewModelError = newImage.ModelErrorFraction, ReferenceModelError = reference.ModelErrorFraction,
            NewWidthError = newImage.WidthErrorPixels2, ReferenceWidthError = reference.WidthErrorPixels2,
            NewVarianceFactor = NoiseCorrelation.VarianceFactor(newImage.NoiseAutocorrelation, kernels.NewKernel, kernels.Size),
            ReferenceVarianceFactor = NoiseCorrelation.VarianceFactor(reference.NoiseAutocorrelation, kernels.ReferenceKernel, kernels.Size),
            AstrometricRmsX = registration.AstrometricRmsX, AstrometricRmsY = registration.AstrometricRmsY,
            ReferenceShiftX = registration.ReferenceShiftX, ReferenceShiftY = registration.ReferenceShiftY,
            FluxRatioError = registration.FluxRatioError,
        };
        // The transforms are periodic: a margin as wide as the kernels reach keeps the kernels of stars near one edge
        // from wrapping onto the opposite edge (4088 + 24 -> 4116), so local sums over the kernel box (LocalScore)
        // agree with the transform everywhere.
        var margin = Math.Max(Math.Max(newImage.Psf.Size, reference.Psf.Size) / 2 + 1, kernels.Reach + 1);
        var pw = FftSizes.NextFriendly(Math.Max(w + margin, Math.Max(newImage.Psf.Size, reference.Psf.Size)));
        var ph = FftSizes.NextFriendly(Math.Max(h + margin, Math.Max(newImage.Psf.Size, reference.Psf.Size)));
        var masked = Mask(newImage.Pixels, reference.Pixels);

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
        var ramp = ShiftRamp.For(pw, ph, noise.ReferenceShiftX, noise.ReferenceShiftY);

        // Forward transforms of the images and PSFs (a PSF's rows beyond its stamp are zero: half a transform each); the
        // image spectra become S_N^ and S_R^ in place.
        fft.Forward(Pad(newImage.Pixels, masked, w, h, pw, ph, real), nHat);
        fft.Forward(Pad(reference.Pixels, masked, w, h, pw, ph, real), rHat);
        fft.ForwardCompact(Embed(newImage.Psf, fft, real), newImage.Psf.Centre, pnHat);
        fft.ForwardCompact(Embed(reference.Psf, fft, real), reference.Psf.Centre, prHat);

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
                    if (ramp is not null) (rRe, rIm) = ramp.Apply(row, k >> 1, rRe, rIm);
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
            dHat.Release();
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
        var reach = kernels.Size / 2;
        fft.ForwardCompact(WrapSquared(kernels.NewKernel, kernels.Size, fft, real), reach, knHat);
        // The reference's shift is in its squared kernel (R shifted is R convolved with k_r shifted), so its variance map
        // is not shifted: a shifted square is not the square of the shifted kernel.
        var referenceKernel = ramp is null ? kernels.ReferenceKernel : kernels.ReferenceKernelShifted(noise.ReferenceShiftX, noise.ReferenceShiftY);
        fft.ForwardCompact(WrapSquared(referenceKernel, kernels.Size, fft, real), reach, krHat);
        // The model-error terms take the constant light from the reference (scaled to each image's flux unit): a
        // transient, which only N holds, adds no model error to itself, and the reference's light is the less noisy.
        fft.Forward(VarianceImage(newImage, noise.NewVarianceFactor, reference.Pixels, newImage.ModelErrorFraction * fn / fr, masked, pw, ph, real), nHat);
        fft.Forward(VarianceImage(reference, noise.ReferenceVarianceFactor, reference.Pixels, reference.ModelErrorFraction, masked, pw, ph, real), rHat);
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
        // The four spectra are done with: freed now rather than pooled, before the image-sized outputs are allocated
        // (with them the subtraction's memory peak: 4 x 68 MB less at 4088^2).
        foreach (var spectrum in new[] { nHat, rHat, pnHat, prHat }) spectrum.Release();

        // Masked pixels that held light: the bound A of the residual they leave, as a variance A^2 (LostFlux).
        var lost = LostFlux.Find(newImage.Pixels, reference.Pixels, masked, w, newImage.NoiseSigma, reference.NoiseSigma, fn, fr, kernels.Reach);
        // The inputs themselves (not copies): the result keeps them, so callers must not change them afterwards.
        var inputs = new LocalScore(kernels, noise, w, h, newImage.Pixels, reference.Pixels, newImage.Variance, reference.Variance, masked, lost);
        float[]? lostAmplitude = null;
        if (lost.Count > 0)
        {
            lostAmplitude = new float[(long)w * h];
            lost.AddAmplitude(lostAmplitude, h, inputs.Centre);
        }

        var score = new float[(long)w * h];
        var scoreCorrected = new float[(long)w * h];
        var (sx2, sy2) = (noise.AstrometricRmsX * noise.AstrometricRmsX, noise.AstrometricRmsY * noise.AstrometricRmsY);
        var (wn2, wr2) = (noise.NewWidthError * noise.NewWidthError, noise.ReferenceWidthError * noise.ReferenceWidthError);
        var neighbourTerms = sx2 > 0 || sy2 > 0 || wn2 > 0 || wr2 > 0;
        var e2 = noise.FluxRatioError * noise.FluxRatioError;
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
                if (neighbourTerms)
                {
                    // sigma_x^2 (dS/dx)^2 + sigma_y^2 (dS/dy)^2 for S_N and S_R (eq. 30-33), central differences; and
                    // (w_n^2 + w_r^2) (lap S_R)^2, the five-point Laplacian: constant light scores alike in S_N and S_R
                    // (S = S_N - S_R vanishes on it), and S_R holds no transient, which its own term would hide.
                    var left = x > 0 ? p - 1 : p;
                    var gxScale = scale / (p + 1 - left);
                    var (pUp, pDown) = (p + pw, (long)down * pw + x);
                    var gxn = ((double)ns[p + 1] - ns[left]) * gxScale;
                    var gyn = ((double)ns[pUp] - ns[pDown]) * gyScale;
                    var gxr = ((double)rs[p + 1] - rs[left]) * gxScale;
                    var gyr = ((double)rs[pUp] - rs[pDown]) * gyScale;
                    v += sx2 * gxn * gxn + sy2 * gyn * gyn + sx2 * gxr * gxr + sy2 * gyr * gyr;
                    var lapR = ((double)rs[p + 1] + rs[left] + rs[pUp] + rs[pDown] - 4.0 * rs[p]) * scale;
                    v += (wn2 + wr2) * lapR * lapR;
                }
                var sr = rs[p] * scale;
                v += e2 * sr * sr;
                if (lostAmplitude is not null) v += (double)lostAmplitude[i] * lostAmplitude[i];
                var vf = (float)v;
                var s = ((double)ns[p] - rs[p]) * scale;
                score[i] = (float)s;
                scoreCorrected[i] = vf > 0 ? (float)(s / Math.Sqrt(vf)) : float.NaN;
            }
        });
        return new ZogyResult(w, h, difference, score, scoreCorrected, kernels.DifferencePsf, fd) { Kernels = kernels, Local = inputs };
    }

    /// <summary>
    /// The PSF times a circular cos^2 taper, 1 within three quarters of the stamp's half-width and 0 from the half-width out
    /// (pmvreeswijk/ZOGY likewise zeroes a PSF's corners beyond its radius), renormalised to sum 1.
    /// </summary>
    internal static PsfModel Apodized(PsfModel psf)
    {
        var c = psf.Centre;
        var (inner, outer) = (0.75 * c, (double)c);
        var stamp = new double[psf.Size * psf.Size];
        for (var j = 0; j < psf.Size; j++)
            for (var i = 0; i < psf.Size; i++)
            {
                var r = Math.Sqrt((i - c) * (i - c) + (j - c) * (j - c));
                var weight = r <= inner ? 1 : r >= outer ? 0 : Math.Pow(Math.Cos(0.5 * Math.PI * (r - inner) / (outer - inner)), 2);
                stamp[j * psf.Size + i] = psf.Stamp[j * psf.Size + i] * weight;
            }
        return new PsfModel(stamp, psf.Size, psf.FwhmPixels, psf.Method, psf.StarsUsed);
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

    /// <summary>
    /// Total variance per pixel, times eta for correlated noise, with the model-error term (e L)^2 of the constant light L
    /// (e: the model-error fraction times L's flux scale to the image's); zero at masked pixels and in the padding,
    /// which hold a noiseless 0.
    /// </summary>
    private static FftwBuffer VarianceImage(ZogyImage image, double eta, float[] light, double modelError, bool[] masked, int pw, int ph, FftwBuffer target)
    {
        var background = image.NoiseSigma * image.NoiseSigma;
        var e2 = modelError * modelError;
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
                double l = light[i];
                row[x] = (float)(eta * v + e2 * l * l);
            }
        });
        return target;
    }

    /// <summary>
    /// The PSF stamp in float32 with its centre at (0, 0) of a pw x ph buffer (negative offsets wrap), zeroed in the rows
    /// the compact transform reads.
    /// </summary>
    private static FftwBuffer Embed(PsfModel psf, Fft2D fft, FftwBuffer target)
    {
        var (pw, ph) = (fft.Width, fft.Height);
        fft.ClearCompactRows(target, psf.Centre);
        var span = target.Span;
        var c = psf.Centre;
        for (var j = 0; j < psf.Size; j++)
        {
            var y = (j - c + ph) % ph;
            for (var i = 0; i < psf.Size; i++) span[y * pw + (i - c + pw) % pw] = (float)psf.Stamp[j * psf.Size + i];
        }
        return target;
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

    /// <summary>
    /// The squares of an origin-at-(0, 0) m x m kernel wrapped periodically into a pw x ph buffer zeroed in the rows the
    /// compact transform reads (offsets beyond half wrap negative; a grid larger than the buffer folds onto it, as a
    /// periodic convolution on the buffer would).
    /// </summary>
    private static FftwBuffer WrapSquared(double[] small, int m, Fft2D fft, FftwBuffer target)
    {
        var (pw, ph) = (fft.Width, fft.Height);
        fft.ClearCompactRows(target, m / 2);
        var span = target.Span;
        for (var j = 0; j < m; j++)
        {
            var y = ((j <= m / 2 ? j : j - m) % ph + ph) % ph;
            for (var i = 0; i < m; i++)
            {
                var x = ((i <= m / 2 ? i : i - m) % pw + pw) % pw;
                var k = small[j * m + i];
                span[y * pw + x] += (float)(k * k);
            }
        }
        return target;
    }
}
