namespace Rapid.Pipeline.Imaging;

/// <summary>
/// Rejects detections sharper than the PSF allows: cosmic-ray tracks and hot pixels of the science exposure,
/// which a single image cannot reject by stacking. In the manner of L.A.Cosmic's fine-structure test
/// (van Dokkum 2001) reduced to one number: the weakest of the peak pixel's four edge neighbours, relative
/// to the peak. A Gaussian PSF of width σ keeps at least
/// R(σ) = [Φ(−1/σ) − Φ(−2/σ)] / [Φ(0) − Φ(−1/σ)] of its peak there however it is centred on the pixel grid
/// (the worst case is a centre half a pixel off, on the far side); a track one pixel wide keeps ~0 across it.
/// Only peaks significant enough for the test to beat the noise are judged.
/// </summary>
public sealed class SharpnessFilter
{
    /// <param name="psfFwhmPixels">FWHM of the Gaussian PSF before it is integrated over the pixels.</param>
    public SharpnessFilter(double psfFwhmPixels, double minSignificance = 15, double safety = 0.5)
        : this(safety * WorstCaseNeighbourRatio(psfFwhmPixels / 2.3548), minSignificance)
    {
    }

    private SharpnessFilter(double minNeighbourRatio, double minSignificance)
    {
        MinNeighbourRatio = minNeighbourRatio;
        MinSignificance = minSignificance;
    }

    /// <summary>
    /// The test with R taken from an effective PSF (Anderson and King 2000, PASP 112, 1360) instead of a Gaussian's
    /// formula: the least, over sub-pixel phases in eighths of a pixel, of the weakest edge neighbour over the centre
    /// pixel of a star drawn by the ePSF at the image centre. An ePSF is already pixel-integrated, so its width must not
    /// be fed to the Gaussian formula (which integrates again): for a 1.2 px Gaussian the pixel-convolved FWHM of 1.4 px
    /// put the cut above what real stars keep at the worst phase, and they were masked as cosmic rays.
    /// </summary>
    public static SharpnessFilter ForEffectivePsf(Psf.EffectivePsf psf, double minSignificance = 15, double safety = 0.5)
    {
        ArgumentNullException.ThrowIfNull(psf);
        var (cx, cy) = (Math.Round(psf.Origin.X), Math.Round(psf.Origin.Y));
        Span<double> box = stackalloc double[9];
        var worst = double.PositiveInfinity;
        for (var j = -4; j <= 4; j++)
            for (var i = -4; i <= 4; i++)
            {
                psf.RenderBox(cx + i / 8.0, cy + j / 8.0, (int)cx - 1, (int)cy - 1, 3, 3, box);
                if (!(box[4] > 0)) continue;
                worst = Math.Min(worst, Math.Min(Math.Min(box[1], box[7]), Math.Min(box[3], box[5])) / box[4]);
            }
        return new SharpnessFilter(double.IsFinite(worst) ? safety * Math.Max(0, worst) : 0, minSignificance);
    }

    /// <summary>Detections whose weakest neighbour falls below this fraction of the peak are rejected.</summary>
    public double MinNeighbourRatio { get; }
    public double MinSignificance { get; }

    /// <summary>True when the detection is sharper than any centring of the PSF (and significant enough to tell).</summary>
    public bool IsSharperThanPsf(Detection d, float[] image, int width, int height)
    {
        if (Math.Abs(d.PeakSignificance) < MinSignificance) return false;
        int x = d.PeakX, y = d.PeakY;
        if (x < 1 || y < 1 || x >= width - 1 || y >= height - 1) return false;
        var peak = d.Sign * image[y * width + x];
        if (!(peak > 0)) return false;
        var weakest = Math.Min(
            Math.Min(d.Sign * image[y * width + x - 1], d.Sign * image[y * width + x + 1]),
            Math.Min(d.Sign * image[(y - 1) * width + x], d.Sign * image[(y + 1) * width + x]));
        // A NaN neighbour (masked) says nothing either way.
        return float.IsFinite(weakest) && weakest < MinNeighbourRatio * peak;
    }

    /// <summary>R(σ) above: the pixel-integrated Gaussian's far neighbour over its peak pixel, centre half a pixel off.</summary>
    public static double WorstCaseNeighbourRatio(double sigma)
    {
        if (!(sigma > 0)) return 0;
        var peak = NormalCdf(0) - NormalCdf(-1 / sigma);
        return (NormalCdf(-1 / sigma) - NormalCdf(-2 / sigma)) / peak;
    }

    // Φ via erfc's Abramowitz & Stegun 7.1.26 approximation (|error| < 1.5e-7).
    private static double NormalCdf(double z)
    {
        var x = Math.Abs(z) / Math.Sqrt(2);
        var t = 1 / (1 + 0.3275911 * x);
        var erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.Exp(-x * x);
        return z >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
    }
}
