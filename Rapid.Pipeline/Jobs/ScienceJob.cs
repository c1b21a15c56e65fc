using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Resampling;
using Rapid.Pipeline.Simulation.Injection;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// Pipeline 15, the naive difference-imaging path of the walking skeleton: science image → DN/s and
/// uncertainty; reference registered or co-added; reference resampled onto the science grid; mesh
/// backgrounds subtracted; flux matched on bright stars; D = sci − scale·ref with its uncertainty;
/// low-coverage pixels masked; peaks above the threshold (positive and negative) measured and catalogued.
/// The subtraction is the step ZOGY (issue 4) replaces; the steps around it stay.
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
        var injection = FakeSourceInjectionStep.Inject(context, science);

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
            context.Log.Info($"flux scale {match.Scale:G6} from {match.MatchedStars} stars; dx median {match.DxMedian:F3} rms {match.DxRms:F3}, dy median {match.DyMedian:F3} rms {match.DyRms:F3} px");
        }

        var diff = new float[width * height];
        var diffVariance = new float[width * height];
        using (context.Log.Step("subtract"))
        {
            var s = match.Scale;
            for (var i = 0; i < diff.Length; i++)
            {
                if (coverageFraction[i] < settings.MinReferenceCoverage) { diff[i] = diffVariance[i] = float.NaN; continue; }
                diff[i] = (float)(sci[i] - s * refImage[i]);
                diffVariance[i] = (float)(science.Variance[i] + s * s * refVariance[i]);
            }
        }

        IReadOnlyList<CatalogSource> sources;
        using (context.Log.Step("detect"))
        {
            var significance = ImageArithmetic.Significance(diff, diffVariance);
            IReadOnlyList<Detection> detections = new PeakDetector(settings.DetectionThresholdSigma).Detect(significance, diff, width, height);
            var fwhm = double.IsFinite(fwhmScience) ? fwhmScience : fwhmReference;
            if (double.IsFinite(fwhm))
            {
                // Cosmic rays and hot pixels of the (single) science exposure are sharper than its PSF.
                var sharpness = new SharpnessFilter(fwhm);
                var kept = detections.Where(d => !sharpness.IsSharperThanPsf(d, diff, width, height)).ToList();
                context.Log.Info($"{detections.Count - kept.Count} detection(s) sharper than the PSF (FWHM {fwhm:F2} px) rejected as cosmic rays or hot pixels");
                detections = kept;
            }
            var radius = SourceCatalog.ApertureRadius(fwhm);
            var apertureCorrection = SourceCatalog.ApertureCorrection(sciStars, sci, science.Variance, width, height, fwhm, radius);
            context.Log.Info($"aperture radius {radius:F2} px, aperture correction {apertureCorrection:F4}");
            sources = SourceCatalog.Measure(detections, diff, diffVariance, width, height, science.Wcs, radius, apertureCorrection);
            context.Log.Info($"{sources.Count} sources ({sources.Count(x => x.Sign > 0)} positive) above {settings.DetectionThresholdSigma} sigma");
        }
        var recovery = await RecoveryMeasurementStep.MeasureAsync(context, injection, science, diff,
            sources.Where(x => x.Sign > 0).Select(x => new DetectedSource(x.X + 1, x.Y + 1, x.Flux, x.FluxError)).ToList(), products, ct);

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
            products.Add(WriteImage(context, ProductRoles.DifferenceImage, "diffimage.fits", diff, width, height, header));
            products.Add(WriteImage(context, ProductRoles.DifferenceUncertainty, "diffimage_uncert.fits", ImageArithmetic.Sqrt(diffVariance), width, height, header));
            products.Add(WriteImage(context, ProductRoles.ResampledReference, "refimage_resampled.fits", refOnScience.Pixels, width, height, header));
            var catalogPath = context.PathInWorkDirectory("sources.fits");
            FitsFile.WriteTable(catalogPath, meta, SourceCatalog.ToTable(sources));
            products.Add(new LocalProduct(ProductRoles.DifferenceCatalog, catalogPath));
        }

        return new JobResult
        {
            Products = products,
            ReferenceImage = reference.Built?.Result,
            InjectionRecovery = recovery,
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
                FwhmScience = double.IsFinite(fwhmScience) ? fwhmScience : 0,
                FwhmReference = double.IsFinite(fwhmReference) ? fwhmReference : 0,
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

    private static LocalProduct WriteImage(JobContext context, string role, string fileName, float[] pixels, int width, int height, FitsHeader header)
    {
        var path = context.PathInWorkDirectory(fileName);
        var h = header.Clone();
        h.Set("BUNIT", "DN/s");
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
