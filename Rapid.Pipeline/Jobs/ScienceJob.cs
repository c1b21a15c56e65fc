using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Resampling;
using Rapid.Pipeline.Subtraction;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// Pipeline 15, difference imaging: science image → DN/s and uncertainty; reference registered or co-added;
/// reference resampled onto the science grid; mesh backgrounds subtracted; flux and astrometry matched on bright
/// stars; PSFs of both estimated (a fallback PSF is a warning, exit 32); low-coverage reference pixels masked;
/// ZOGY (Zackay, Ofek and Gal-Yam 2016) gives D (written in the science DN/s), S_corr and P_D; peaks of |S_corr|
/// above the threshold (positive and negative) are PSF-fit on D and catalogued.
/// </summary>
public sealed class ScienceJob : IPipelineJob
{
    public async Task<JobResult> RunAsync(JobContext context, CancellationToken ct)
    {
        var config = context.Config;
        var settings = config.Settings;
        var l2 = config.Science ?? throw new JobFailedException(ExitCodes.InvalidConfig, $"job {config.Jid}: a science job needs a Science image");
        var referenceSource = config.Reference ?? throw new JobFailedException(ExitCodes.InvalidConfig, $"job {config.Jid}: a science job needs a Reference");
        var products = new List<LocalProduct>();

        CalibratedImage science;
        using (context.Log.Step("science.calibrate"))
        {
            var local = await context.DownloadInputAsync(l2.File, l2.Md5, ct);
            science = ReferenceCoaddStep.LoadCalibrated(local, l2.File.ToString(), settings, zeroPoint: null);
        }
        int width = science.Width, height = science.Height;

        var reference = await ObtainReferenceAsync(context, referenceSource, l2, science, ct);
        if (reference.Built is not null) products.AddRange(reference.Built.Products);

        ResampledImage refOnScience;
        float[] coverageFraction;
        using (context.Log.Step("reference.resample_to_science"))
        {
            refOnScience = LanczosResampler.Resample(reference.Image, reference.Wcs, width, height, science.Wcs, reference.Variance);
            var coverage = LanczosResampler.Resample(reference.Coverage, reference.Wcs, width, height, science.Wcs);
            coverageFraction = new float[width * height];
            for (var i = 0; i < coverageFraction.Length; i++)
            {
                var c = coverage.Pixels[i] / reference.NFrames * coverage.Coverage[i];
                coverageFraction[i] = double.IsFinite(c) ? (float)c : 0f;
            }
        }
        if (!coverageFraction.Any(c => c >= settings.MinReferenceCoverage))
            throw new JobFailedException(ExitCodes.NoReferenceImage, $"the reference does not cover the science image {l2.File}");

        BackgroundMap sciBackground, refBackground;
        float[] sci, refImage;
        using (context.Log.Step("background"))
        {
            var estimator = new MeshBackgroundEstimator(settings.BackgroundMeshSize);
            sciBackground = estimator.Estimate(science.Rate, width, height);
            refBackground = estimator.Estimate(refOnScience.Pixels, width, height);
            sci = sciBackground.Subtract(science.Rate);
            refImage = refBackground.Subtract(refOnScience.Pixels);
        }

        var refVariance = refOnScience.Variance ?? throw new InvalidOperationException("the resampler returned no variance");
        FluxMatch match;
        double fwhmScience, fwhmReference;
        IReadOnlyList<MeasuredStar> sciStars;
        using (context.Log.Step("flux_match"))
        {
            sciStars = StarMeasurement.BrightStars(sci, science.Variance, width, height);
            var refStars = StarMeasurement.BrightStars(refImage, refVariance, width, height);
            fwhmScience = StarMeasurement.MedianFwhm(sciStars);
            fwhmReference = StarMeasurement.MedianFwhm(refStars);
            // Without enough matched stars the zero points, when both are known, still give the scale.
            var fallback = science.ZeroPointMag is double zs && reference.ZeroPointMag is double zr ? Math.Pow(10, -0.4 * (zr - zs)) : 1.0;
            match = FluxMatcher.Match(sciStars, refStars, fallback);
            if (!match.Matched)
                context.Warn($"flux matching: only {match.MatchedStars} star(s) matched between science and reference (need {FluxMatcher.MinMatchedStars}); scale {fallback:G6} assumed");
            context.Log.Info($"star FWHM (moments) science {fwhmScience:F2} px, reference {fwhmReference:F2} px");
            context.Log.Info($"flux scale {match.Scale:G6} from {match.MatchedStars} stars; dx median {match.DxMedian:F3} rms {match.DxRms:F3}, dy median {match.DyMedian:F3} rms {match.DyRms:F3} px");
        }

        // Reference pixels with too little coverage are masked (NaN) before ZOGY and come back NaN in every product.
        var refMasked = (float[])refImage.Clone();
        for (var i = 0; i < refMasked.Length; i++)
            if (coverageFraction[i] < settings.MinReferenceCoverage) refMasked[i] = float.NaN;
        var sciSigma = RobustStatistics.SigmaClip(sci).Sigma;
        var refSigma = RobustStatistics.SigmaClip(refMasked).Sigma;
        if (!(sciSigma > 0) || !(refSigma > 0))
            throw new JobFailedException(ExitCodes.Error, $"no background noise could be measured (science sigma {sciSigma:G4}, reference sigma {refSigma:G4} DN/s) for {l2.File}");

        PsfModel sciPsf, refPsf;
        using (context.Log.Step("psf"))
        {
            // Saturated pixels are NaN already (ImageCalibration), and the estimator rejects stars touching NaN.
            // The two estimates are independent and single-threaded: run them side by side.
            var estimator = new PsfEstimator();
            PsfModel? n = null, r = null;
            Parallel.Invoke(
                () => n = estimator.Estimate(sci, width, height, sciSigma, double.PositiveInfinity),
                () => r = estimator.Estimate(refMasked, width, height, refSigma, double.PositiveInfinity));
            (sciPsf, refPsf) = (n!, r!);
            foreach (var (name, psf) in new[] { ("science", sciPsf), ("reference", refPsf) })
            {
                if (psf.IsFallback)
                    context.Warn($"psf: the {name} PSF is a {psf.Method} fallback (FWHM {psf.FwhmPixels:F2} px from {psf.StarsUsed} star(s)); too few bright isolated stars");
                context.Log.Info($"{name} PSF: {psf.Method}, FWHM {psf.FwhmPixels:F2} px from {psf.StarsUsed} stars");
            }
        }

        using (context.Log.Step("cosmic_rays"))
        {
            // Cosmic rays and hot pixels of the (single) science exposure are sharper than its PSF. They are found on
            // the plain difference sci - Scale * ref, where they keep their shape, and masked in the science image
            // before ZOGY: left in, its kernels would spread them into rings of spurious S_corr peaks.
            var masked = MaskSharpFeatures(sci, science.Variance, refMasked, refVariance, match.Scale, width, height, sciPsf.FwhmPixels, settings.DetectionThresholdSigma);
            context.Log.Info($"{masked.Features} feature(s) sharper than the PSF (FWHM {sciPsf.FwhmPixels:F2} px) masked as cosmic rays or hot pixels ({masked.Pixels} pixels)");
        }

        ZogyResult zogy;
        float[] diff, diffUncertainty;
        using (context.Log.Step("zogy"))
        {
            // sci = Scale * ref on matched stars, so F_n = 1 and F_r = 1 / Scale put D / F_D in the science image's DN/s.
            var astrometricX = double.IsFinite(match.DxRms) ? match.DxRms : 0;
            var astrometricY = double.IsFinite(match.DyRms) ? match.DyRms : 0;
            zogy = ZogySubtraction.Subtract(
                new ZogyImage(sci, width, height, sciPsf, sciSigma) { FluxScale = 1, Variance = science.Variance },
                new ZogyImage(refMasked, width, height, refPsf, refSigma) { FluxScale = 1 / match.Scale, Variance = refVariance },
                astrometricX, astrometricY);
            diff = zogy.DifferenceInFluxUnits();
            diffUncertainty = DifferenceUncertainty(zogy, science.Variance, refVariance, sciSigma, refSigma, 1, 1 / match.Scale);
        }

        IReadOnlyList<CatalogSource> sources;
        using (context.Log.Step("detection"))
        {
            var detections = new PeakDetector(settings.DetectionThresholdSigma).Detect(zogy.ScoreCorrected, zogy.ScoreCorrected, width, height);
            sources = Measure(detections, zogy, science.Wcs);
            context.Log.Info($"{sources.Count} sources ({sources.Count(x => x.Sign > 0)} positive) above {settings.DetectionThresholdSigma} sigma in S_corr");
        }

        using (context.Log.Step("write"))
        {
            // Images carry the science header (with its WCS) plus the metadata; the catalog's empty primary only the metadata.
            var header = science.Header.Clone();
            var meta = new FitsHeader();
            foreach (var h in new[] { header, meta })
            {
                h.Set("RID", l2.Rid, "rid of the science image");
                if (referenceSource.Rfid is long rfid) h.Set("RFID", rfid, "rfid of the reference image");
                h.Set("SCALEFAC", match.Scale, "flux scale applied to the reference");
                h.Set("DETSIGMA", settings.DetectionThresholdSigma, "detection threshold (sigma)");
            }
            if (science.Header.GetString("FILTER") is string filter) meta.Set("FILTER", filter);
            if (science.Header.GetDouble("MJD-OBS") is double mjd) meta.Set("MJD-OBS", mjd);
            header.Set("ZOGYFD", zogy.FluxScale, "ZOGY F_D (diffimage = D / F_D, DN/s)");
            header.Set("PSFFWHMN", sciPsf.FwhmPixels, "science PSF FWHM (pixels)");
            header.Set("PSFFWHMR", refPsf.FwhmPixels, "reference PSF FWHM (pixels)");
            products.Add(WriteImage(context, ProductRoles.DifferenceImage, "diffimage.fits", diff, width, height, header));
            products.Add(WriteImage(context, ProductRoles.DifferenceUncertainty, "diffimage_uncert.fits", diffUncertainty, width, height, header));
            products.Add(WriteImage(context, ProductRoles.ScoreImage, "scorr.fits", zogy.ScoreCorrected, width, height, header, "sigma"));
            products.Add(WritePsf(context, zogy.DifferencePsf, meta));
            products.Add(WriteImage(context, ProductRoles.ResampledReference, "refimage_resampled.fits", refOnScience.Pixels, width, height, header));
            var catalogPath = context.PathInWorkDirectory("sources.fits");
            FitsFile.WriteTable(catalogPath, meta, SourceCatalog.ToTable(sources));
            products.Add(new LocalProduct(ProductRoles.DifferenceCatalog, catalogPath));
        }

        return new JobResult
        {
            Products = products,
            ReferenceImage = reference.Built?.Result,
            DifferenceImage = new DifferenceImageResult
            {
                Rid = l2.Rid,
                Rfid = referenceSource.IsRegistered ? referenceSource.Rfid : null,
                NSources = sources.Count,
                NPositive = sources.Count(x => x.Sign > 0),
                NNegative = sources.Count(x => x.Sign < 0),
                ScaleFactor = match.Scale,
                DxRms = match.DxRms,
                DyRms = match.DyRms,
                DxMedian = match.DxMedian,
                DyMedian = match.DyMedian,
                BackgroundScience = sciBackground.GlobalMedian,
                BackgroundReference = refBackground.GlobalMedian,
                FwhmScience = double.IsFinite(sciPsf.FwhmPixels) ? sciPsf.FwhmPixels : 0,
                FwhmReference = double.IsFinite(refPsf.FwhmPixels) ? refPsf.FwhmPixels : 0,
                CornersRaDec = Corners(science.Wcs, width, height),
            },
        };
    }

    /// <summary>The reference on its own grid: image (DN/s), variance, coverage (frames), and how many frames it holds.</summary>
    private sealed record ReferenceOnGrid(FitsImage Image, float[] Variance, FitsImage Coverage, TanSipWcs Wcs, double NFrames, double? ZeroPointMag, BuiltReference? Built);

    private static async Task<ReferenceOnGrid> ObtainReferenceAsync(JobContext context, ReferenceSource source, L2Image l2, CalibratedImage science, CancellationToken ct)
    {
        if (!source.IsRegistered)
        {
            var tile = context.Config.Tile;
            // Without a tile the reference is co-added straight onto the science grid.
            var grid = tile is not null
                ? CoaddGrid.NorthUp(tile.CenterRaDeg, tile.CenterDecDeg, tile.Naxis1, tile.Naxis2, tile.PixelScaleArcsec)
                : new CoaddGrid(science.Width, science.Height, science.Wcs);
            var built = await ReferenceCoaddStep.BuildAsync(context, source, grid, tile?.Field ?? l2.Field, l2.Fid, l2.Filter, ct);
            var c = built.Coadd;
            var header = new FitsHeader();
            grid.Wcs.WriteTo(header);
            return new ReferenceOnGrid(
                new FitsImage(grid.Width, grid.Height, c.Image, header.Clone()), ImageArithmetic.Square(c.Uncertainty),
                new FitsImage(grid.Width, grid.Height, c.Coverage, header.Clone()), grid.Wcs, c.Used.Count,
                c.Used.All(u => u.ZeroPointMag is not null) ? ImageCalibration.ReferenceZeroPointMag : null, built);
        }

        using (context.Log.Step("reference.download"))
        {
            var image = ReadReference(await context.DownloadInputAsync(source.Image!, null, ct), source.Image!.ToString());
            TanSipWcs wcs;
            try { wcs = TanSipWcs.FromHeader(image.Header, source.Image!.ToString()); }
            catch (WcsException e) { throw JobFailedException.InvalidInput($"{source.Image}: {e.Message}", e); }
            var nframes = (double)(image.Header.GetLong("NFRAMES") ?? 1);
            FitsImage coverage;
            if (source.Coverage is not null)
            {
                coverage = ReadReference(await context.DownloadInputAsync(source.Coverage, null, ct), source.Coverage.ToString());
                RequireSameSize(coverage, image, source.Coverage.ToString());
                nframes = Math.Max(nframes, coverage.Pixels.Where(float.IsFinite).DefaultIfEmpty(1f).Max());
            }
            else
            {
                coverage = new FitsImage(image.Width, image.Height, image.Pixels.Select(p => float.IsFinite(p) ? (float)nframes : 0f).ToArray(), image.Header.Clone());
            }
            float[] variance;
            if (source.Uncertainty is not null)
            {
                var uncertainty = ReadReference(await context.DownloadInputAsync(source.Uncertainty, null, ct), source.Uncertainty.ToString());
                RequireSameSize(uncertainty, image, source.Uncertainty.ToString());
                variance = ImageArithmetic.Square(uncertainty.Pixels);
            }
            else
            {
                // No uncertainty image: the clipped pixel scatter stands in for every pixel.
                var sigma = RobustStatistics.SigmaClip(image.Pixels).Sigma;
                context.Log.Info($"reference {source.Image} has no uncertainty image; using its clipped sigma {sigma:G4}");
                variance = Enumerable.Repeat((float)(sigma * sigma), image.Pixels.Length).ToArray();
            }
            var zp = image.Header.GetDouble("MAGZP") ?? image.Header.GetDouble("ZPTMAG");
            return new ReferenceOnGrid(image, variance, coverage, wcs, Math.Max(nframes, 1), zp, null);
        }
    }

    private static FitsImage ReadReference(string localPath, string source)
    {
        try { return FitsFile.ReadImage(localPath); }
        catch (Exception e) when (e is FitsFormatException or IOException) { throw JobFailedException.InvalidInput($"{source}: {e.Message}", e); }
    }

    private static void RequireSameSize(FitsImage image, FitsImage reference, string source)
    {
        if (image.Width != reference.Width || image.Height != reference.Height)
            throw JobFailedException.InvalidInput($"{source}: {image.Width}x{image.Height} does not match the reference image's {reference.Width}x{reference.Height}");
    }

    /// <summary>
    /// Sets to NaN, in <paramref name="sci"/>, the pixels of every feature of the plain difference sci - scale * ref
    /// that the <see cref="SharpnessFilter"/> finds sharper than the PSF: the 8-connected pixels beyond 3 sigma of the
    /// same sign around its peak (within 10 px), grown by one pixel.
    /// </summary>
    private static (int Features, int Pixels) MaskSharpFeatures(float[] sci, float[] sciVariance, float[] reference, float[] refVariance,
        double scale, int width, int height, double fwhm, double thresholdSigma)
    {
        if (!(fwhm > 0) || !double.IsFinite(fwhm)) return (0, 0);
        var plain = new float[width * height];
        var significance = new float[width * height];
        for (var i = 0; i < plain.Length; i++)
        {
            plain[i] = (float)(sci[i] - scale * reference[i]);
            var v = sciVariance[i] + scale * scale * refVariance[i];
            significance[i] = v > 0 ? (float)(plain[i] / Math.Sqrt(v)) : float.NaN;
        }
        var sharpness = new SharpnessFilter(fwhm);
        var sharp = new PeakDetector(thresholdSigma).Detect(significance, plain, width, height)
            .Where(d => sharpness.IsSharperThanPsf(d, plain, width, height)).ToList();
        var mask = new bool[plain.Length];
        var stack = new Stack<(int X, int Y)>();
        foreach (var d in sharp)
        {
            stack.Push((d.PeakX, d.PeakY));
            mask[d.PeakY * width + d.PeakX] = true;
            while (stack.Count > 0)
            {
                var (px, py) = stack.Pop();
                for (var dy = -1; dy <= 1; dy++)
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        int x = px + dx, y = py + dy;
                        if (x < 0 || y < 0 || x >= width || y >= height || Math.Abs(x - d.PeakX) > 10 || Math.Abs(y - d.PeakY) > 10) continue;
                        var q = y * width + x;
                        if (mask[q] || !(d.Sign * significance[q] > 3)) continue;
                        mask[q] = true;
                        stack.Push((x, y));
                    }
            }
        }
        var pixels = 0;
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var grown = false;
                for (var dy = -1; dy <= 1 && !grown; dy++)
                    for (var dx = -1; dx <= 1 && !grown; dx++)
                    {
                        int nx = x + dx, ny = y + dy;
                        grown = nx >= 0 && ny >= 0 && nx < width && ny < height && mask[ny * width + nx];
                    }
                if (!grown) continue;
                sci[y * width + x] = float.NaN;
                pixels++;
            }
        return (sharp.Count, pixels);
    }

    /// <summary>
    /// The per-pixel 1-sigma of diffimage (D / F_D, DN/s). D is whitened: on background-limited noise its per-pixel
    /// sigma is 1, i.e. 1 / F_D in DN/s (Zackay et al. 2016, section 3.2). Where a pixel's total variance exceeds the
    /// background (source noise of bright stars) the two images' shares of D's variance, which are
    /// w_n = sigma_n^2 F_r^2 / (sigma_n^2 F_r^2 + sigma_r^2 F_n^2) and w_r = 1 - w_n at low frequencies, are scaled by
    /// the local variance over the background variance:
    ///   sigma_D(x) = (1 / F_D) sqrt(w_n V_n(x) / sigma_n^2 + w_r V_r(x) / sigma_r^2).
    /// A pixel-wise approximation: it ignores how the ZOGY kernels spread variance between neighbouring pixels.
    /// </summary>
    private static float[] DifferenceUncertainty(ZogyResult zogy, float[] newVariance, float[] referenceVariance, double sigmaN, double sigmaR, double fn, double fr)
    {
        var (sn2, sr2) = (sigmaN * sigmaN, sigmaR * sigmaR);
        var wn = sn2 * fr * fr / (sn2 * fr * fr + sr2 * fn * fn);
        var wr = 1 - wn;
        var result = new float[zogy.Difference.Length];
        for (var i = 0; i < result.Length; i++)
        {
            if (float.IsNaN(zogy.Difference[i])) { result[i] = float.NaN; continue; }
            var vn = double.IsFinite(newVariance[i]) && newVariance[i] > 0 ? Math.Max(newVariance[i], sn2) : sn2;
            var vr = double.IsFinite(referenceVariance[i]) && referenceVariance[i] > 0 ? Math.Max(referenceVariance[i], sr2) : sr2;
            result[i] = (float)(Math.Sqrt(wn * vn / sn2 + wr * vr / sr2) / zogy.FluxScale);
        }
        return result;
    }

    /// <summary>PSF-fit flux of P_D on D at each detection (DN/s); SNR is the peak |S_corr|; FLAGS 1 when the fit box was cut by an edge or NaN.</summary>
    private static IReadOnlyList<CatalogSource> Measure(IReadOnlyList<Detection> detections, ZogyResult zogy, TanSipWcs wcs)
    {
        var sources = new List<CatalogSource>(detections.Count);
        var fullBox = zogy.DifferencePsf.Size * zogy.DifferencePsf.Size;
        foreach (var d in detections.OrderBy(d => d.Y).ThenBy(d => d.X))
        {
            var flux = DifferencePhotometry.Measure(zogy, d.X, d.Y);
            var (ra, dec) = wcs.PixelToSky(d.X + 1, d.Y + 1);
            sources.Add(new CatalogSource(sources.Count + 1, d.X, d.Y, ra, dec, flux.Flux, flux.FluxError,
                Math.Abs(d.PeakSignificance), d.Sign, flux.PixelsUsed < fullBox ? 1 : 0));
        }
        return sources;
    }

    /// <summary>P_D as a stamp image (sum 1, centre at pixel Size / 2, 0-based).</summary>
    private static LocalProduct WritePsf(JobContext context, PsfModel psf, FitsHeader meta)
    {
        var path = context.PathInWorkDirectory("diffpsf.fits");
        var h = meta.Clone();
        h.Set("PSFFWHM", psf.FwhmPixels, "FWHM of P_D (pixels)");
        var stamp = new float[psf.Size * psf.Size];
        for (var i = 0; i < stamp.Length; i++) stamp[i] = (float)psf.Stamp[i];
        FitsFile.WriteImage(path, new FitsImage(psf.Size, psf.Size, stamp, h));
        return new LocalProduct(ProductRoles.DifferencePsf, path);
    }

    private static LocalProduct WriteImage(JobContext context, string role, string fileName, float[] pixels, int width, int height, FitsHeader header, string unit = "DN/s")
    {
        var path = context.PathInWorkDirectory(fileName);
        var h = header.Clone();
        h.Set("BUNIT", unit);
        FitsFile.WriteImage(path, new FitsImage(width, height, pixels, h));
        return new LocalProduct(role, path);
    }

    /// <summary>Centre then the four corners (1,1), (W,1), (W,H), (1,H) as RA, Dec pairs in degrees.</summary>
    private static IReadOnlyList<double> Corners(TanSipWcs wcs, int width, int height)
    {
        (double X, double Y)[] points = [((width + 1) / 2.0, (height + 1) / 2.0), (1, 1), (width, 1), (width, height), (1, height)];
        var result = new List<double>(10);
        foreach (var (x, y) in points)
        {
            var (ra, dec) = wcs.PixelToSky(x, y);
            result.Add(ra);
            result.Add(dec);
        }
        return result;
    }
}
