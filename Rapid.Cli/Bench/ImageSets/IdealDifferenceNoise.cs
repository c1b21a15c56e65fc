namespace Rapid.Cli.Bench.ImageSets;

/// <summary>
/// The 1-sigma of a point source's flux on an ideal difference image, from the truth alone (the PSFs the renderer
/// drew, the background noise it added): the optimal (ZOGY) S/N of a point source, Zackay, Ofek &amp; Gal-Yam 2016,
/// ApJ 830, 27, eq. 17 and 41, with both images in the science image's flux units,
///   1 / sigma^2 = (1/N) sum_k |P_n(k)|^2 |P_r(k)|^2 / (sigma_n^2 |P_r(k)|^2 + sigma_r^2 |P_n(k)|^2)
/// over the N frequencies of the stamps' discrete Fourier transform (for sigma_r = 0 it is the PSF-fit error
/// sigma_n / sqrt(sum P_n^2)). The source's own Poisson noise adds, in quadrature, what it adds to a PSF fit of each
/// image: 1 / sum P^2 / (sigma^2 + f P / (g t)) - 1 / sum P^2 / sigma^2. The stamps are drawn at the source's own
/// sub-pixel phase, so an undersampled PSF's phase dependence is in the figure, not averaged away.
/// </summary>
public static class IdealDifferenceNoise
{
    /// <summary>Background-limited 1-sigma (flux units of the noise figures) for two square stamps of side <paramref name="size"/>.</summary>
    public static double Background(float[] sciencePsf, float[] referencePsf, int size, double scienceNoise, double referenceNoise)
    {
        var pn = PowerSpectrum(sciencePsf, size);
        var pr = PowerSpectrum(referencePsf, size);
        double information = 0;
        var (vn, vr) = (scienceNoise * scienceNoise, referenceNoise * referenceNoise);
        for (var k = 0; k < pn.Length; k++)
        {
            var denominator = vn * pr[k] + vr * pn[k];
            if (denominator > 0) information += pn[k] * pr[k] / denominator;
        }
        information /= pn.Length;
        return information > 0 ? 1 / Math.Sqrt(information) : double.NaN;
    }

    /// <summary>The variance a source of <paramref name="flux"/> adds to a PSF fit by its own Poisson noise.</summary>
    public static double SourceVariance(float[] psf, double noise, double flux, double electronsPerRate)
    {
        if (!(flux > 0) || !(electronsPerRate > 0)) return 0;
        double withSource = 0, without = 0;
        var v = noise * noise;
        foreach (var p in psf)
        {
            if (!(p > 0)) continue;
            withSource += p * (double)p / (v + flux * p / electronsPerRate);
            without += p * (double)p / v;
        }
        return withSource > 0 ? 1 / withSource - 1 / without : 0;
    }

    /// <summary>The whole 1-sigma of a true change's difference flux: background, then each epoch's source noise.</summary>
    public static double Of(TrueChange change, ImageSet set)
    {
        var m = set.Manifest;
        var background = Background(change.SciencePsf, change.ReferencePsf, set.StampSize, m.ScienceNoise, m.ReferenceNoise);
        var source = SourceVariance(change.SciencePsf, m.ScienceNoise, change.ScienceFlux, m.ScienceElectronsPerRate)
                     + SourceVariance(change.ReferencePsf, m.ReferenceNoise, change.ReferenceFlux, m.ReferenceElectronsPerRate);
        return Math.Sqrt(background * background + source);
    }

    /// <summary>|DFT|^2 of a square stamp (row-major), by rows then columns.</summary>
    internal static double[] PowerSpectrum(float[] stamp, int size)
    {
        if (stamp.Length != size * size) throw new ArgumentException($"a stamp of {stamp.Length} values is not {size} x {size}");
        var (cos, sin) = (new double[size], new double[size]);
        for (var i = 0; i < size; i++) (cos[i], sin[i]) = (Math.Cos(2 * Math.PI * i / size), Math.Sin(2 * Math.PI * i / size));
        var (re, im) = (new double[size * size], new double[size * size]);
        for (var y = 0; y < size; y++)
            for (var kx = 0; kx < size; kx++)
            {
                double r = 0, s = 0;
                for (var x = 0; x < size; x++)
                {
                    var p = stamp[y * size + x];
                    var phase = kx * x % size;
                    r += p * cos[phase];
                    s -= p * sin[phase];
                }
                (re[y * size + kx], im[y * size + kx]) = (r, s);
            }
        var power = new double[size * size];
        for (var kx = 0; kx < size; kx++)
            for (var ky = 0; ky < size; ky++)
            {
                double r = 0, s = 0;
                for (var y = 0; y < size; y++)
                {
                    var phase = ky * y % size;
                    var (a, b) = (re[y * size + kx], im[y * size + kx]);
                    r += a * cos[phase] + b * sin[phase];
                    s += b * cos[phase] - a * sin[phase];
                }
                power[ky * size + kx] = r * r + s * s;
            }
        return power;
    }
}
