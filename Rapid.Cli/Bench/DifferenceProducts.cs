using Rapid.Pipeline.Fits;

namespace Rapid.Cli.Bench;

/// <summary>A row of sources.fits: X, Y 1-based FITS pixels of the science image; Flux, FluxError DN/s (signed PSF fit on D); Snr the peak |S_corr|; RA/Dec degrees.</summary>
public sealed record DifferenceDetection(double X, double Y, double Flux, double FluxError, double Snr, int Sign, int Flags,
    double RaDeg = double.NaN, double DecDeg = double.NaN)
{
    /// <summary>FLAGS bit 1: within a few PSF widths of a saturated science pixel.</summary>
    public bool NearSaturated => (Flags & 2) != 0;
}

/// <summary>
/// What the quality figures need from a <c>rapid diff</c> out directory: the catalog, S_corr (sigma), the per-pixel
/// uncertainty of D (DN/s) and P_D (a stamp of sum 1 centred at pixel Size/2, 0-based). Images row-major, 0-based.
/// DetectionThresholdSigma is the S_corr threshold the run used (DETSIGMA); ZeroPointMag the AB magnitude of 1 DN/s of D
/// (ZPTMAG); PixelScaleArcsec the science grid's.
/// </summary>
public sealed record DifferenceProducts(IReadOnlyList<DifferenceDetection> Detections, int Width, int Height,
    float[] ScoreCorrected, float[] DifferenceUncertainty, float[] DifferencePsf, int DifferencePsfSize, double DetectionThresholdSigma = double.NaN,
    double ZeroPointMag = double.NaN, double PixelScaleArcsec = double.NaN)
{
    public static DifferenceProducts Read(string outDirectory)
    {
        var t = FitsFile.ReadTable(Path.Combine(outDirectory, "sources.fits"), "SOURCES");
        var (x, y, flux, err, snr) = (t.GetDoubles("X_IMAGE"), t.GetDoubles("Y_IMAGE"), t.GetDoubles("FLUX"), t.GetDoubles("FLUXERR"), t.GetDoubles("SNR"));
        var (sign, flags) = (t.GetLongs("SIGN"), t.GetLongs("FLAGS"));
        var (ra, dec) = (t.GetDoubles("RA"), t.GetDoubles("DEC"));
        var detections = Enumerable.Range(0, t.RowCount)
            .Select(i => new DifferenceDetection(x[i], y[i], flux[i], err[i], snr[i], (int)sign[i], (int)flags[i], ra[i], dec[i])).ToList();
        var scorr = FitsFile.ReadImage(Path.Combine(outDirectory, "scorr.fits"));
        var uncertainty = FitsFile.ReadImage(Path.Combine(outDirectory, "diffimage_uncert.fits"));
        var psf = FitsFile.ReadImage(Path.Combine(outDirectory, "diffpsf.fits"));
        if (psf.Width != psf.Height) throw new FitsFormatException(Path.Combine(outDirectory, "diffpsf.fits"), $"P_D stamp is {psf.Width}x{psf.Height}, not square");
        var difference = FitsFile.ReadImageInfo(Path.Combine(outDirectory, "diffimage.fits")).Header;
        return new DifferenceProducts(detections, scorr.Width, scorr.Height, scorr.Pixels, uncertainty.Pixels, psf.Pixels, psf.Width,
            scorr.Header.GetDouble("DETSIGMA") ?? double.NaN, difference.GetDouble(ProductKeywords.ZeroPoint) ?? double.NaN,
            Rapid.Pipeline.Wcs.TanSipWcs.FromHeader(difference, "diffimage.fits").PixelScaleArcsec);
    }

    /// <summary>The highest sign × S_corr within 1 px of a 1-based FITS position (NaN where all of it is masked).</summary>
    public double PeakScoreNear(double x, double y, int sign)
    {
        var (cx, cy) = ((int)Math.Round(x - 1), (int)Math.Round(y - 1));
        var peak = double.NaN;
        for (var j = Math.Max(0, cy - 1); j <= Math.Min(Height - 1, cy + 1); j++)
            for (var i = Math.Max(0, cx - 1); i <= Math.Min(Width - 1, cx + 1); i++)
            {
                var v = sign * ScoreCorrected[j * Width + i];
                if (float.IsFinite(v) && !(v <= peak)) peak = v;
            }
        return peak;
    }
}

/// <summary>
/// The 1-sigma of a PSF-fit flux on D at a position, from the noise alone: σ_F = (Σ P_k² / σ_k²)^(-1/2) over the P_D
/// stamp centred on the nearest pixel (the optimal-fit error, e.g. Naylor 1998). It gives true sources a S/N whether or
/// not they were found, so completeness is not selected on the detections' own errors.
/// </summary>
public static class PsfFluxNoise
{
    /// <param name="x">1-based FITS pixel x on the science image.</param>
    /// <param name="y">1-based FITS pixel y.</param>
    /// <returns>DN/s; NaN where no stamp pixel has a finite uncertainty (masked).</returns>
    public static double At(DifferenceProducts products, double x, double y)
    {
        ArgumentNullException.ThrowIfNull(products);
        return Of(products, (px, py) => products.DifferenceUncertainty[py * products.Width + px], x, y);
    }

    /// <summary>
    /// The same for a source on the sky alone: every stamp pixel has the median finite per-pixel 1-sigma of the difference
    /// (most pixels hold no source), so neither a source's own light nor its host's raises it; DN/s, NaN when nothing is finite.
    /// </summary>
    public static double Background(DifferenceProducts products)
    {
        ArgumentNullException.ThrowIfNull(products);
        var finite = products.DifferenceUncertainty.Where(v => float.IsFinite(v) && v > 0).ToArray();
        if (finite.Length == 0) return double.NaN;
        Array.Sort(finite);
        var sky = finite[finite.Length / 2];
        var n = products.DifferencePsfSize;
        return Of(products, (_, _) => sky, 1 + n / 2, 1 + n / 2);
    }

    /// <summary>1 / √(Σ P_D² / σ²) over the PSF stamp centred on 1-based (x, y), σ of each in-image pixel from sigmaAt (0-based).</summary>
    private static double Of(DifferenceProducts products, Func<int, int, float> sigmaAt, double x, double y)
    {
        var (cx, cy) = ((int)Math.Round(x - 1), (int)Math.Round(y - 1));
        var n = products.DifferencePsfSize;
        var half = n / 2;
        double information = 0;
        for (var j = 0; j < n; j++)
        {
            var py = cy + j - half;
            if (py < 0 || py >= products.Height) continue;
            for (var i = 0; i < n; i++)
            {
                var px = cx + i - half;
                if (px < 0 || px >= products.Width) continue;
                var sigma = sigmaAt(px, py);
                var p = products.DifferencePsf[j * n + i];
                if (float.IsFinite(sigma) && sigma > 0 && float.IsFinite(p)) information += p * (double)p / (sigma * (double)sigma);
            }
        }
        return information > 0 ? 1 / Math.Sqrt(information) : double.NaN;
    }
}
