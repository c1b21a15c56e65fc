using System.Globalization;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Simulation;
using Rapid.Pipeline.Tests.Psf.Support;
using Xunit.Abstractions;

namespace Rapid.Pipeline.Tests.Psf;

/// <summary>
/// Our ePSF against photutils' EPSFBuilder (the implementation of Anderson &amp; King 2000 the field uses) run by
/// Debian's python3 on the same image and the same stars, and against images photutils renders with a known ePSF.
/// </summary>
public sealed class PhotutilsEpsfComparisonTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rapid-epsf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// photutils' EPSFBuilder (oversampling 4, quartic smoothing, its defaults otherwise) on the stars our builder
    /// chose, cut at the centres it fitted; the two ePSFs are compared in FWHM, shape and pixel values at four
    /// sub-pixel phases, and each against the truth (the simulator's pixel-integrated Moffat).
    /// </summary>
    [Fact]
    public void Agrees_with_photutils_epsf_builder_on_the_same_stars()
    {
        const int size = 640;
        var truth = new MoffatPsf(1.4);
        var random = new Random(21);
        var image = new float[size * size];
        foreach (var (x, y, f) in StarField.Grid(size, size, 64, 40, 5000, 60000, random)) StampRenderer.AddPointSource(image, size, size, x, y, f, truth);
        StarField.AddNoise(image, 2, random);
        var ours = new EffectivePsfBuilder(new EffectivePsfOptions { StampSize = 25, MaxVariationDegree = 0 }).Build(image, size, size, 2, double.PositiveInfinity);
        Assert.True(ours.Stars.Count >= 60, $"{ours.Stars.Count} stars");
        var imagePath = Path.Combine(_dir, "image.fits");
        FitsFile.WriteImage(imagePath, new FitsImage(size, size, image));
        var starsPath = Path.Combine(_dir, "stars.txt");
        File.WriteAllLines(starsPath, ours.Stars.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.X} {s.Y}")));
        var epsfPath = Path.Combine(_dir, "photutils_epsf.fits");

        var log = Photutils.Run("""
            import sys, warnings, numpy as np
            from astropy.io import fits
            from astropy.nddata import NDData
            from astropy.table import Table
            from photutils.psf import extract_stars, EPSFBuilder
            warnings.simplefilter('ignore')
            data = fits.getdata(sys.argv[1]).astype(float)
            xy = np.loadtxt(sys.argv[2], ndmin=2)
            stars = extract_stars(NDData(data=data), Table({'x': xy[:, 0], 'y': xy[:, 1]}), size=25)
            epsf, fitted = EPSFBuilder(oversampling=4, maxiters=10, progress_bar=False)(stars)
            fits.writeto(sys.argv[3], epsf.data.astype(np.float64), overwrite=True)
            print('stars', len(stars), 'shape', epsf.data.shape)
            """, imagePath, starsPath, epsfPath);
        output.WriteLine(log.Trim());

        var theirs = FromFits(epsfPath, 4);
        Assert.Equal(ours.GridSize, theirs.GridSize);
        var (fwhmOurs, fwhmTheirs) = (ours.FwhmPixels, theirs.FwhmPixels);
        var (shapeOurs, shapeTheirs) = (Moments(ours), Moments(theirs));
        var between = WorstDifference(ours, theirs);
        var (oursVsTruth, theirsVsTruth) = (EffectivePsfBuilderTests.WorstResidual(ours, truth, 0, 0), EffectivePsfBuilderTests.WorstResidual(theirs, truth, 0, 0));
        output.WriteLine($"FWHM ours {fwhmOurs:F4} px, photutils {fwhmTheirs:F4} px; size (r2) {shapeOurs.R2:F4} / {shapeTheirs.R2:F4}, "
            + $"e1 {shapeOurs.E1:F4} / {shapeTheirs.E1:F4}, e2 {shapeOurs.E2:F4} / {shapeTheirs.E2:F4}");
        output.WriteLine($"largest pixel difference between the two {between:P2} of the peak; against the truth: ours {oursVsTruth:P2}, photutils {theirsVsTruth:P2}");
        Assert.InRange(fwhmOurs / fwhmTheirs, 0.98, 1.02);
        Assert.InRange(shapeOurs.R2 / shapeTheirs.R2, 0.98, 1.02);
        Assert.InRange(shapeOurs.E1 - shapeTheirs.E1, -0.01, 0.01);
        Assert.InRange(shapeOurs.E2 - shapeTheirs.E2, -0.01, 0.01);
        Assert.True(between < 0.03, $"the ePSFs differ by {between:P2} of the peak");
        Assert.True(oursVsTruth <= theirsVsTruth + 0.005, $"ours is {oursVsTruth:P2} from the truth, photutils' {theirsVsTruth:P2}");
    }

    /// <summary>
    /// Stars rendered by photutils (IntegratedGaussianPRF: a Gaussian integrated over square pixels, so its exact ePSF
    /// is known), undersampled and well sampled, plus Gaussian noise; our ePSF must
    /// match the exact one at every phase.
    /// </summary>
    [Theory]
    [InlineData(1.2)]
    [InlineData(2.4)]
    public void Recovers_the_exact_epsf_of_stars_photutils_renders(double fwhm)
    {
        var imagePath = Path.Combine(_dir, "rendered.fits");
        var sigma = fwhm * PsfShape.SigmaPerFwhm;
        var log = Photutils.Run("""
            import sys, numpy as np
            from astropy.io import fits
            from photutils.psf import IntegratedGaussianPRF
            rng = np.random.default_rng(5)
            n, sigma = 768, float(sys.argv[2])
            g = np.arange(40, n - 40, 36)
            x, y = np.meshgrid(g, g)
            count = x.size
            image = np.zeros((n, n))
            model = IntegratedGaussianPRF(sigma=sigma)
            for x0, y0 in zip(x.ravel() + rng.uniform(-1, 1, count), y.ravel() + rng.uniform(-1, 1, count)):
                yy, xx = np.mgrid[int(y0) - 15:int(y0) + 16, int(x0) - 15:int(x0) + 16]
                image[yy, xx] += model.evaluate(xx, yy, 10 ** rng.uniform(np.log10(4000), np.log10(60000)), x0, y0, sigma)
            image += rng.normal(0, 2, image.shape)
            fits.writeto(sys.argv[1], image.astype(np.float32), overwrite=True)
            print('stars', count)
            """, imagePath, sigma.ToString("R", CultureInfo.InvariantCulture));
        output.WriteLine(log.Trim());
        var image = FitsFile.ReadImage(imagePath);

        var psf = new EffectivePsfBuilder().Build(image.Pixels, image.Width, image.Height, 2, double.PositiveInfinity);

        var exact = EffectivePsf.Gaussian(fwhm, 12, 4, PsfMethod.Given);
        var worst = WorstDifference(psf.At(image.Width / 2.0, image.Height / 2.0), exact);
        output.WriteLine($"{psf.StarsUsed} stars, degree {psf.Degree}; FWHM {psf.FwhmPixels:F4} px, exact {exact.FwhmPixels:F4} px; largest difference {worst:P2} of the peak");
        Assert.InRange(psf.FwhmPixels / exact.FwhmPixels, 0.99, 1.01);
        Assert.True(worst < 0.015, $"{worst:P2} of the peak");
    }

    /// <summary>An ePSF from a FITS grid of samples (photutils' EPSFModel.data), normalised to unit flux.</summary>
    private static EffectivePsf FromFits(string path, int oversampling)
    {
        var grid = FitsFile.ReadImage(path);
        return new EffectivePsf([Array.ConvertAll(grid.Pixels, v => (double)v)], grid.Width, oversampling, 0, (0, 0, 1), PsfMethod.Given, 0);
    }

    /// <summary>The largest difference of two unit-flux ePSFs rendered on 17 x 17 native stamps at four phases, relative to the peak.</summary>
    private static double WorstDifference(EffectivePsf a, EffectivePsf b)
    {
        double worst = 0, peak = 0;
        foreach (var (dx, dy) in new[] { (0.0, 0.0), (0.5, 0.5), (0.25, -0.4), (-0.5, 0.1) })
        {
            var (ra, rb) = (a.Render(dx, dy, 17), b.Render(dx, dy, 17));
            for (var i = 0; i < ra.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(ra[i] - rb[i]));
                peak = Math.Max(peak, rb[i]);
            }
        }
        return worst / peak;
    }

    /// <summary>Second moments of the supersampled grid within 3 native pixels: size r² = Ixx + Iyy and ellipticity (e1, e2).</summary>
    private static (double R2, double E1, double E2) Moments(EffectivePsf psf)
    {
        var samples = psf.Samples;
        var (n, s) = (psf.GridSize, (double)psf.Oversampling);
        var c = (n - 1) / 2.0;
        double sum = 0, xx = 0, yy = 0, xy = 0;
        for (var v = 0; v < n; v++)
            for (var u = 0; u < n; u++)
            {
                var (dx, dy) = ((u - c) / s, (v - c) / s);
                if (dx * dx + dy * dy > 9) continue;
                var w = samples[v * n + u];
                sum += w;
                xx += w * dx * dx;
                yy += w * dy * dy;
                xy += w * dx * dy;
            }
        var r2 = (xx + yy) / sum;
        return (r2, (xx - yy) / sum / r2, 2 * xy / sum / r2);
    }
}
