using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;

namespace Rapid.Pipeline.Jobs;

/// <summary>A reference image co-added by this job, its products (written to the work directory) and its statistics.</summary>
public sealed record BuiltReference(ReferenceCoadd Coadd, ReferenceImageResult Result, IReadOnlyList<LocalProduct> Products);

/// <summary>
/// Co-adds a reference image from earlier L2 images onto a grid (ppid 12, and ppid 15 when no reference is
/// registered): download, DN → DN/s at the common zero point, Lanczos resampling, weighted clipped co-add,
/// then the reference products refimage*.fits with their statistics. Too few usable inputs → exit 33.
/// </summary>
public static class ReferenceCoaddStep
{
    public static async Task<BuiltReference> BuildAsync(JobContext context, IReadOnlyList<L2Image> candidates, CoaddGrid grid,
        long field, int fid, string filter, CancellationToken ct)
    {
        var settings = context.Config.Settings;
        var inputs = candidates.Take(settings.MaxReferenceInputs).ToList();
        if (inputs.Count < settings.MinReferenceInputs)
            throw new JobFailedException(ExitCodes.NoReferenceImage,
                $"no reference image possible: {inputs.Count} input image(s), at least {settings.MinReferenceInputs} needed");

        var coadder = new ReferenceCoadder(grid, settings.CoaddClipSigma, settings.CoaddClipAmplitudeFraction, settings.BackgroundMeshSize);
        var rids = new List<long>();
        var mjds = new List<double>();
        var skipped = new List<string>();
        long saturated = 0;
        foreach (var input in inputs)
        {
            string local;
            CalibratedImage image;
            using (context.Log.Step("reference.download")) local = await context.ReadInputAsync(input.File, input.Md5, ct);
            using (context.Log.Step("reference.calibrate")) image = LoadCalibrated(local, input.File.ToString(), settings, ImageCalibration.ReferenceZeroPointMag);
            // A downloaded copy is deleted once read (many inputs would fill the work directory); a file read in place is the store's.
            if (context.IsInWorkDirectory(local)) File.Delete(local);
            bool used;
            using (context.Log.Step("reference.resample")) used = coadder.Add(image);
            // The input's rate and variance (128 MB at 4088 x 4088) are garbage now. Left to the GC's large-object budget,
            // several inputs' worth piles up before a full collection and the peak memory doubles; a full collection of
            // a heap of pointer-free float arrays costs milliseconds.
            // (A local of an async method lives in its state machine until overwritten, hence the explicit null.)
            var (mjd, inputSaturated) = (image.MjdObs, image.SaturatedPixels);
            image = null!;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
            if (!used)
            {
                context.Log.Info($"reference input {input.File} (rid {input.Rid}) does not overlap the grid; skipped");
                skipped.Add(input.File.ToString());
                continue;
            }
            rids.Add(input.Rid);
            mjds.Add(double.IsFinite(mjd) ? mjd : input.MjdObs);
            saturated += inputSaturated;
        }
        if (coadder.UsedCount < settings.MinReferenceInputs)
            throw new JobFailedException(ExitCodes.NoReferenceImage,
                $"no reference image possible: {coadder.UsedCount} of {inputs.Count} input image(s) overlap the grid, at least {settings.MinReferenceInputs} needed"
                + (skipped.Count > 0 ? $"; not overlapping: {string.Join(", ", skipped)}" : ""));

        ReferenceCoadd coadd;
        using (context.Log.Step("reference.coadd")) coadd = coadder.Combine();
        // The layers Combine released are the largest garbage of the job (see above). Aggressive: their space (input-sized
        // pieces) would not hold the grid-sized arrays that follow on a tile grid, so it is handed back to the OS.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        context.Log.Info($"co-added {coadd.Used.Count} inputs onto {grid.Width}x{grid.Height}; {coadd.RejectedValues} values rejected as outliers");

        ReferenceImageResult result;
        IReadOnlyList<CatalogSource> catalog;
        using (context.Log.Step("reference.catalog"))
        {
            var variance = ImageArithmetic.Square(coadd.Uncertainty);
            var background = new MeshBackgroundEstimator(settings.BackgroundMeshSize).Estimate(coadd.Image, grid.Width, grid.Height);
            var subtracted = background.Subtract(coadd.Image);
            var stars = StarMeasurement.BrightStars(subtracted, variance, grid.Width, grid.Height);
            var fwhm = StarMeasurement.MedianFwhm(stars);
            var detections = new PeakDetector(settings.DetectionThresholdSigma)
                .Detect(ImageArithmetic.Significance(subtracted, variance), subtracted, grid.Width, grid.Height, includeNegative: false);
            catalog = SourceCatalog.Measure(detections, subtracted, variance, grid.Width, grid.Height, grid.Wcs, SourceCatalog.ApertureRadius(fwhm));
            var clipped = RobustStatistics.SigmaClip(coadd.Image);
            result = new ReferenceImageResult
            {
                Field = field,
                Fid = fid,
                InputRids = rids,
                NFrames = coadd.Used.Count,
                MjdObsMin = mjds.Min(),
                MjdObsMax = mjds.Max(),
                NPixNan = coadd.Image.LongCount(float.IsNaN),
                NPixSat = saturated,
                Cov5Percent = RobustStatistics.Percentile(coadd.Coverage, 5),
                MedianCoverage = MedianOfPositive(coadd.Coverage),
                MedianPixelUncertainty = RobustStatistics.Median(coadd.Uncertainty),
                ClippedMean = clipped.Mean,
                ClippedSigma = clipped.Sigma,
                FwhmMedian = double.IsFinite(fwhm) ? fwhm : 0,
                NSources = catalog.Count,
            };
        }

        // The catalog's grid-sized temporaries (background, significance, statistics copies) are garbage now too.
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);

        var products = new List<LocalProduct>();
        using (context.Log.Step("reference.write"))
        {
            // The catalog's empty primary HDU gets the metadata without the WCS (WCS keywords there are invalid).
            var header = new FitsHeader();
            header.Set("FIELD", field, "sky tile (field) id");
            header.Set("FID", (long)fid, "filter id");
            header.Set("FILTER", filter, "filter name");
            header.Set("NFRAMES", (long)result.NFrames, "number of images co-added");
            header.Set("MJDMIN", result.MjdObsMin, "earliest MJD-OBS of the inputs");
            header.Set("MJDMAX", result.MjdObsMax, "latest MJD-OBS of the inputs");
            header.Set("COV5PERC", result.Cov5Percent, "5th percentile of the coverage map");
            header.Set("BKGSUB", true, "each input's mesh background subtracted before co-adding");
            if (coadd.Used.All(u => u.ZeroPointMag is not null)) header.Set(ProductKeywords.ZeroPoint, ImageCalibration.ReferenceZeroPointMag, ProductKeywords.ZeroPointComment);
            for (var i = 0; i < rids.Count; i++) header.Set($"RID{i + 1:000}", rids[i], "rid of a co-added input");
            ProductProvenance.WriteTo(header, context.Config);
            var catalogHeader = header.Clone();
            grid.Wcs.WriteTo(header);
            products.Add(WriteImage(context, ProductRoles.ReferenceImage, "refimage.fits", coadd.Image, grid, header, ProductUnits.Rate, "count rate (DN/s)"));
            products.Add(WriteImage(context, ProductRoles.ReferenceCoverage, "refimage_cov.fits", coadd.Coverage, grid, header, ProductUnits.Dimensionless, "number of frames"));
            products.Add(WriteImage(context, ProductRoles.ReferenceUncertainty, "refimage_uncert.fits", coadd.Uncertainty, grid, header, ProductUnits.Rate, "1-sigma of the count rate (DN/s)"));
            var catalogPath = context.PathInWorkDirectory("refimage_catalog.fits");
            FitsFile.WriteTable(catalogPath, catalogHeader, SourceCatalog.ToTable(catalog));
            products.Add(new LocalProduct(ProductRoles.ReferenceCatalog, catalogPath));
        }
        return new BuiltReference(coadd, result, products);
    }

    // The positive values in an array of exactly their number (a growing list of a 7000 x 7000 grid's values would
    // allocate several times the grid), then their median.
    private static double MedianOfPositive(float[] values)
    {
        var count = 0;
        foreach (var v in values) if (v > 0) count++;
        var positive = new float[count];
        var i = 0;
        foreach (var v in values) if (v > 0) positive[i++] = v;
        return RobustStatistics.Median(positive);
    }

    /// <summary>Loads and calibrates an input; an unreadable or unusable file ends the job with exit 65 naming it.</summary>
    public static CalibratedImage LoadCalibrated(string localPath, string source, PipelineSettings settings, double? zeroPoint)
    {
        try
        {
            return ImageCalibration.Load(localPath, source, settings, zeroPoint);
        }
        catch (InvalidImageException e)
        {
            throw JobFailedException.InvalidInput(e.Message, e);
        }
    }

    public static LocalProduct WriteImage(JobContext context, string role, string fileName, float[] pixels, CoaddGrid grid, FitsHeader header, string unit, string what)
    {
        var h = header.Clone();
        h.Set("BUNIT", unit, what);
        var path = context.PathInWorkDirectory(fileName);
        FitsFile.WriteImage(path, new FitsImage(grid.Width, grid.Height, pixels, h));
        return new LocalProduct(role, path);
    }
}
