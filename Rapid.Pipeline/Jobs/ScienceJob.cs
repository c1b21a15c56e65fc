using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Resampling;
using Rapid.Pipeline.Simulation.Injection;
using Rapid.Pipeline.Subtraction;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// Pipeline 15, difference imaging: science image → DN/s and uncertainty; reference registered or co-added;
/// reference resampled onto the science grid; then <see cref="DifferenceImaging"/>: mesh backgrounds, flux and
/// astrometric matching, PSFs (a fallback PSF is a warning, exit 32), masks (low coverage, saturation, cosmic rays),
/// ZOGY (Zackay, Ofek and Gal-Yam 2016) D, S_corr and P_D, detection on S_corr and PSF-fit photometry on D;
/// products: diffimage (D in the science DN/s), its uncertainty, scorr, diffpsf, the resampled reference, sources.
/// </summary>
public sealed class ScienceJob : PipelineJob<ScienceSpec, ScienceOutcome>
{
    /// <summary>Above this fraction of masked difference pixels the job ends with a warning.</summary>
    public const double MaxMaskedFraction = 0.5;

    protected override async Task<JobResult<ScienceOutcome>> RunAsync(JobContext context, ScienceSpec spec, CancellationToken ct)
    {
        var settings = context.Config.Settings;
        var l2 = spec.Science;
        var referenceSource = spec.Reference;
        var products = new List<LocalProduct>();

        CalibratedImage science;
        using (context.Log.Step("science.calibrate"))
        {
            var local = await context.ReadInputAsync(l2.File, l2.Md5, ct);
            science = ReferenceCoaddStep.LoadCalibrated(local, l2.File.ToString(), settings, zeroPoint: null);
        }
        int width = science.Width, height = science.Height;

        // Given PSFs replace the estimated ones; the reference's is taken as it is on the science grid (same pixel scale).
        var sciencePsf = await LoadPsfAsync(context, l2.Psf, ct);
        // The science image's effective PSF from its own stars, before anything is injected: the catalog's fluxes are
        // normalised with it at each source's phase, and the fakes are drawn with it. It needs only the science image,
        // so it is built while the reference is read (or co-added) and resampled, and then the backgrounds estimated:
        // those steps leave cores idle (file reads, serial parts), and the ePSF is needed only after them. Its step's CPU
        // seconds then include theirs (the log's CPU figures are the process's).
        var buildingEpsf = Task.Run(() => SciencePsfStep.Build(context, science, sciencePsf, EffectivePsfOptions.From(settings)), ct);
        ResampledImage refOnScience;
        float[] coverageFrames;
        PsfModel? referencePsf;
        double? referenceZeroPoint;
        ReferenceImageResult? builtReference;
        try
        {
            // The reference on its own grid is needed only until it is resampled: kept in this async method's state
            // (every local of an async method lives as long as the method), its image, variance and coverage (and a
            // co-add's planes) would stay through ZOGY, the job's memory peak. Hence a local of its own scope, nulled.
            var reference = await ObtainReferenceAsync(context, spec, science, ct);
            if (reference.Built is not null) products.AddRange(reference.Built.Products);
            (referenceZeroPoint, builtReference) = (reference.ZeroPointMag, reference.Built?.Result);
            using (context.Log.Step("reference.resample_to_science"))
            {
                refOnScience = LanczosResampler.Resample(reference.Image, reference.Wcs, width, height, science.Wcs, reference.Variance);
                coverageFrames = ReferenceCoverageOnScience.Frames(reference.Coverage, reference.Wcs, width, height, science.Wcs, refOnScience.Coverage);
            }
            reference = null!;
            // The resampled coverage fraction is in coverageFrames now.
            refOnScience = refOnScience with { Coverage = [] };
            // What was just released (a co-add's planes, the reference's maps) is collected now rather than whenever the
            // large-object budget next runs out, which may be in the middle of ZOGY (the peak): a full collection of a
            // heap of pointer-free float arrays costs milliseconds.
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
            if (!coverageFrames.Any(c => c >= settings.MinReferenceCoverage))
                throw new JobFailedException(ExitCodes.NoReferenceImage, $"the reference does not cover the science image {l2.File}");
            referencePsf = await LoadPsfAsync(context, referenceSource.Psf, ct);
        }
        catch
        {
            // The job ends with the reference's failure; the ePSF's own outcome no longer matters (WhenAny does not
            // rethrow it), but it is waited for so that nothing of the job runs on after it has failed.
            await Task.WhenAny(buildingEpsf);
            throw;
        }

        DifferenceImagingResult result;
        try
        {
            // The zero points, when both are known, predict the scale: a check on the measured one, and what is used
            // when too few stars measure it.
            double? predicted = science.ZeroPointMag is double zs && referenceZeroPoint is double zr ? Math.Pow(10, -0.4 * (zr - zs)) : null;
            result = DifferenceImaging.Run(new DifferenceImagingInput
            {
                Width = width,
                Height = height,
                Science = science.Rate,
                ScienceVariance = science.Variance,
                Reference = refOnScience.Pixels,
                ReferenceVariance = refOnScience.Variance ?? throw new InvalidOperationException("the resampler returned no variance"),
                ReferenceCoverage = coverageFrames,
                Saturated = science.Saturated,
                SciencePsf = sciencePsf,
                ReferencePsf = referencePsf,
                PredictedScale = predicted,
                // Still being built, perhaps: the background step runs meanwhile (the ePSF keeps one core, it the other).
                PendingScienceEffectivePsf = buildingEpsf,
            }, DifferenceImagingOptions.From(settings), new JobImagingLog(context));
        }
        catch (Exception e)
        {
            // As above: a failure before the ePSF was needed leaves it building; the job does not end while it runs on.
            await Task.WhenAny(buildingEpsf);
            if (e is InvalidImageException) throw new JobFailedException(ExitCodes.Error, $"{l2.File}: {e.Message}", e);
            throw;
        }
        finally
        {
            // The transforms' pooled buffers (~0.5 GB at 4088^2) serve repeated subtractions in one process; a job has one.
            Fft.FftwBuffer.TrimPool();
        }
        var scienceEpsf = await buildingEpsf;
        var match = result.Match;
        var sources = ToCatalog(result, science.Wcs, coverageFrames, width, height);
        // Fakes are measured apart from the products (the same detection and photometry, on windows of ZOGY's inputs).
        var injection = FakeSourceInjectionStep.Run(context, science, result, FakeSourceInjectionStep.RendererFor(result, scienceEpsf));
        var recovery = await RecoveryMeasurementStep.MeasureAsync(context, injection, science, result.ScoreCorrected,
            sources.Where(x => x.Sign > 0).Select(x => new DetectedSource(x.X + 1, x.Y + 1, x.Flux, x.FluxError)).ToList(), products, ct);
        // A difference image that is mostly masked is still a product, but a degraded one (exit 32).
        if (result.MaskedFraction > MaxMaskedFraction)
            context.Warn(JobWarningKind.Coverage, $"coverage: {result.MaskedFraction:P1} of the difference image is masked (reference coverage below {settings.MinReferenceCoverage:G3} frames, bad, saturated or cosmic-ray pixels)");

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
                h.Set("DETSIGMA", result.DetectionThreshold, "detection threshold on S_corr (sigma)");
                ProductProvenance.WriteTo(h, context.Config);
            }
            if (science.Header.GetString("FILTER") is string filter) meta.Set("FILTER", filter);
            if (science.Header.GetDouble("MJD-OBS") is double mjd) meta.Set("MJD-OBS", mjd);
            header.Set("ZOGYFD", result.ZogyFluxScale, "ZOGY F_D (diffimage = D / F_D, DN/s)");
            header.Set("ASTRMSX", result.AstrometricRms.X, "ZOGY astrometric sigma_x (pixels)");
            header.Set("ASTRMSY", result.AstrometricRms.Y, "ZOGY astrometric sigma_y (pixels)");
            header.Set("PSFFWHMN", result.SciencePsf.FwhmPixels, "science PSF FWHM (pixels)");
            header.Set("PSFFWHMR", result.ReferencePsf.FwhmPixels, "reference PSF FWHM (pixels)");
            header.Set("MASKFRAC", result.MaskedFraction, "fraction of pixels masked (NaN)");
            header.Set("COVMED", result.CoverageMedian, "median reference coverage (frames)");
            // The resampled reference is on the science grid but in the reference's flux scale: its own zero point.
            var resampledHeader = header.Clone();
            resampledHeader.Remove(ProductKeywords.ZeroPoint);
            if (referenceZeroPoint is double zpr) resampledHeader.Set(ProductKeywords.ZeroPoint, zpr, ProductKeywords.ZeroPointComment);
            // The four images (67 MB each at 4088^2) are encoded and written side by side, each hashed as soon as it is
            // written; they are listed in the usual order.
            var images = new Func<LocalProduct>[]
            {
                () => WriteImage(context, ProductRoles.DifferenceImage, "diffimage.fits", result.Difference, width, height, header),
                () => WriteImage(context, ProductRoles.DifferenceUncertainty, "diffimage_uncert.fits", result.DifferenceUncertainty, width, height, header),
                () => WriteImage(context, ProductRoles.ScoreImage, "scorr.fits", result.ScoreCorrected, width, height, header, ProductUnits.Dimensionless, "significance (sigma)"),
                () => WriteImage(context, ProductRoles.ResampledReference, "refimage_resampled.fits", refOnScience.Pixels, width, height, resampledHeader),
            };
            var written = new LocalProduct[images.Length];
            Parallel.For(0, images.Length, k => written[k] = images[k]());
            products.AddRange(written[..3]);
            products.Add(WritePsf(context, result.DifferencePsf, meta));
            products.Add(written[3]);
            CatalogFlagRegistry.WriteTo(meta);
            var catalogPath = context.PathInWorkDirectory("sources.fits");
            FitsFile.WriteTable(catalogPath, meta, DifferenceCatalog.ToTable(sources, science.ZeroPointMag));
            products.Add(new LocalProduct(ProductRoles.DifferenceCatalog, catalogPath));
        }

        // The job's outcome: what registration stores for it. New figures go on ScienceOutcome (or DifferenceImageResult).
        return new JobResult<ScienceOutcome>(products, new ScienceOutcome
        {
            CoaddedReference = builtReference,
            InjectionRecovery = recovery,
            Difference = new DifferenceImageResult
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
                BackgroundScience = result.BackgroundScience,
                BackgroundReference = result.BackgroundReference,
                FwhmScience = double.IsFinite(result.SciencePsf.FwhmPixels) ? result.SciencePsf.FwhmPixels : 0,
                FwhmReference = double.IsFinite(result.ReferencePsf.FwhmPixels) ? result.ReferencePsf.FwhmPixels : 0,
                CoverageMedian = result.CoverageMedian,
                MaskedFraction = result.MaskedFraction,
                CornersRaDec = Corners(science.Wcs, width, height),
            },
        });
    }

    /// <summary>Routes the difference-imaging steps to the job's log (timings) and warnings (exit 32).</summary>
    private sealed class JobImagingLog(JobContext context) : IDifferenceImagingLog
    {
        public IDisposable Step(string name) => context.Log.Step(name);
        public void Info(string message) => context.Log.Info(message);
        public void Warn(JobWarningKind kind, string message) => context.Warn(kind, message);
    }

    /// <summary>Reference frames a source needs within <see cref="LowCoverageRadius"/> px not to be flagged LOW_COVERAGE.</summary>
    public const double MinFramesUnflagged = 3;
    private const int LowCoverageRadius = 3;

    /// <summary>
    /// Catalog rows in detection order: RA/Dec at the 1-based FITS pixel (X + 1, Y + 1); shape from the moments of D
    /// (<see cref="MomentShape"/>, POINTLIKE against P_D's own moments in the same aperture); LOW_COVERAGE where the
    /// reference covers any pixel within a few pixels of the source with fewer than 3 frames (a coverage edge or a thin reference).
    /// </summary>
    private static IReadOnlyList<DifferenceCatalogRow> ToCatalog(DifferenceImagingResult result, TanSipWcs wcs, float[] coverageFrames, int width, int height)
    {
        var psf = result.DifferencePsf;
        var radius = Math.Max(3, 2 * (double.IsFinite(psf.FwhmPixels) ? psf.FwhmPixels : 2));
        var stamp = StampPixels(psf);
        var psfFwhm = MomentShape.Measure(stamp, psf.Size, psf.Size, psf.Centre, psf.Centre, +1, radius).Fwhm;
        var rows = new List<DifferenceCatalogRow>(result.Sources.Count);
        foreach (var s in result.Sources)
        {
            var (ra, dec) = wcs.PixelToSky(s.X + 1, s.Y + 1);
            var flags = s.Flags;
            var (cx, cy) = ((int)Math.Round(s.X), (int)Math.Round(s.Y));
            for (var y = Math.Max(0, cy - LowCoverageRadius); y <= Math.Min(height - 1, cy + LowCoverageRadius); y++)
                for (var x = Math.Max(0, cx - LowCoverageRadius); x <= Math.Min(width - 1, cx + LowCoverageRadius); x++)
                    if (!(coverageFrames[y * width + x] >= MinFramesUnflagged)) flags |= DifferenceSourceFlags.LowCoverage;
            var shape = MomentShape.Measure(result.Difference, width, height, s.X, s.Y, s.Sign, radius);
            rows.Add(new DifferenceCatalogRow(rows.Count + 1, s.X, s.Y, ra, dec, s.Flux, s.FluxError, s.Snr, s.Sign,
                shape.Fwhm, shape.Elongation, shape.Fwhm / psfFwhm, flags));
        }
        return rows;
    }

    private static float[] StampPixels(PsfModel psf)
    {
        var stamp = new float[psf.Size * psf.Size];
        for (var i = 0; i < stamp.Length; i++) stamp[i] = (float)psf.Stamp[i];
        return stamp;
    }

    /// <summary>P_D as a stamp image (sum 1, centre at pixel Size / 2, 0-based).</summary>
    private static LocalProduct WritePsf(JobContext context, PsfModel psf, FitsHeader meta)
    {
        var path = context.PathInWorkDirectory("diffpsf.fits");
        var h = meta.Clone();
        h.Set("PSFFWHM", psf.FwhmPixels, "FWHM of P_D (pixels)");
        FitsFile.WriteImage(path, new FitsImage(psf.Size, psf.Size, StampPixels(psf), h));
        return new LocalProduct(ProductRoles.DifferencePsf, path);
    }

    /// <summary>The reference on its own grid: image (DN/s), variance, coverage (frames per pixel), WCS and zero point.</summary>
    private sealed record ReferenceOnGrid(FitsImage Image, float[] Variance, FitsImage Coverage, TanSipWcs Wcs, double? ZeroPointMag, BuiltReference? Built);

    private static async Task<ReferenceOnGrid> ObtainReferenceAsync(JobContext context, ScienceSpec spec, CalibratedImage science, CancellationToken ct)
    {
        var (source, l2) = (spec.Reference, spec.Science);
        if (!source.IsRegistered)
        {
            var tile = spec.Tile;
            // Without a tile the reference is co-added straight onto the science grid.
            var grid = tile is not null
                ? CoaddGrid.NorthUp(tile.CenterRaDeg, tile.CenterDecDeg, tile.Naxis1, tile.Naxis2, tile.PixelScaleArcsec)
                : new CoaddGrid(science.Width, science.Height, science.Wcs);
            var built = await ReferenceCoaddStep.BuildAsync(context, source.Inputs, grid, tile?.Field ?? l2.Field, l2.Fid, l2.Filter, ct);
            var c = built.Coadd;
            var header = new FitsHeader();
            grid.Wcs.WriteTo(header);
            return new ReferenceOnGrid(
                new FitsImage(grid.Width, grid.Height, c.Image, header.Clone()), ImageArithmetic.Square(c.Uncertainty),
                new FitsImage(grid.Width, grid.Height, c.Coverage, header.Clone()), grid.Wcs,
                c.Used.All(u => u.ZeroPointMag is not null) ? ImageCalibration.ReferenceZeroPointMag : null, built);
        }

        using (context.Log.Step("reference.download"))
        {
            var image = ReadReference(await context.ReadInputAsync(source.Image!, null, ct), source.Image!.ToString());
            TanSipWcs wcs;
            try { wcs = TanSipWcs.FromHeader(image.Header, source.Image!.ToString()); }
            catch (WcsException e) { throw JobFailedException.InvalidInput($"{source.Image}: {e.Message}", e); }
            FitsImage coverage;
            if (source.Coverage is not null)
            {
                coverage = ReadReference(await context.ReadInputAsync(source.Coverage, null, ct), source.Coverage.ToString());
                RequireSameSize(coverage, image, source.Coverage.ToString());
            }
            else
            {
                // No coverage map: every finite pixel holds the header's NFRAMES (1 when absent).
                var nframes = (float)Math.Max(1, image.Header.GetLong("NFRAMES") ?? 1);
                coverage = new FitsImage(image.Width, image.Height, image.Pixels.Select(p => float.IsFinite(p) ? nframes : 0f).ToArray(), image.Header.Clone());
            }
            float[] variance;
            if (source.Uncertainty is not null)
            {
                var uncertainty = ReadReference(await context.ReadInputAsync(source.Uncertainty, null, ct), source.Uncertainty.ToString());
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
            var zp = image.Header.GetDouble(ProductKeywords.ZeroPoint) ?? image.Header.GetDouble(ProductKeywords.LegacyZeroPoint);
            return new ReferenceOnGrid(image, variance, coverage, wcs, zp, null);
        }
    }

    /// <summary>A PSF file given in the job config as a model (centred, normalised), or null when none is given.</summary>
    private static async Task<PsfModel?> LoadPsfAsync(JobContext context, ObjectRef? file, CancellationToken ct)
    {
        if (file is null) return null;
        var stamp = ReadReference(await context.ReadInputAsync(file, null, ct), file.ToString());
        try
        {
            var psf = PsfModel.FromStamp(stamp.Pixels, stamp.Width, stamp.Height);
            context.Log.Info($"PSF from {file}: {psf.Size} x {psf.Size} px, FWHM {psf.FwhmPixels:F2} px");
            return psf;
        }
        catch (ArgumentException e)
        {
            throw JobFailedException.InvalidInput($"{file}: not a usable PSF stamp: {e.Message}", e);
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

    private static LocalProduct WriteImage(JobContext context, string role, string fileName, float[] pixels, int width, int height, FitsHeader header,
        string unit = ProductUnits.Rate, string what = "count rate (DN/s)")
    {
        var path = context.PathInWorkDirectory(fileName);
        var h = header.Clone();
        h.Set("BUNIT", unit, what);
        FitsFile.WriteImage(path, new FitsImage(width, height, pixels, h));
        return LocalProduct.Hashed(role, path);
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
