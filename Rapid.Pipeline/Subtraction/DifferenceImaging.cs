using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// The difference-imaging core of the science job (ppid 15), in memory: mesh backgrounds subtracted; flux scale and
/// astrometric residuals from matched stars; low-coverage reference pixels and (grown) saturated science pixels
/// masked; PSFs estimated on each image as it enters ZOGY (the reference's on the science grid it was resampled to);
/// cosmic rays masked; ZOGY (Zackay, Ofek and Gal-Yam 2016) gives D, S_corr and P_D; peaks of |S_corr| above the
/// threshold are PSF-fit on D. Steps are timed through the log: background, flux_match, psf, cosmic_rays, zogy,
/// detection.
/// </summary>
public static class DifferenceImaging
{
    public static DifferenceImagingResult Run(DifferenceImagingInput input, DifferenceImagingOptions options, IDifferenceImagingLog log)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var (width, height) = (input.Width, input.Height);
        var n = width * height;
        foreach (var (name, a) in new[] { ("science", input.Science), ("science variance", input.ScienceVariance), ("reference", input.Reference), ("reference variance", input.ReferenceVariance), ("reference coverage", input.ReferenceCoverage) })
            if (a.Length != n) throw new ArgumentException($"the {name} image has {a.Length} values, not {width} x {height}");

        BackgroundMap sciBackground, refBackground;
        float[] sci, reference;
        using (log.Step("background"))
        {
            var estimator = new MeshBackgroundEstimator(options.BackgroundMeshSize);
            var pair = new BackgroundMap[2];
            Parallel.Invoke(
                () => pair[0] = estimator.Estimate(input.Science, width, height),
                () => pair[1] = estimator.Estimate(input.Reference, width, height));
            (sciBackground, refBackground) = (pair[0], pair[1]);
            sci = sciBackground.Subtract(input.Science);
            reference = refBackground.Subtract(input.Reference);
        }

        FluxMatch match;
        double fwhmScienceStars, fwhmReferenceStars;
        using (log.Step("flux_match"))
        {
            var stars = new IReadOnlyList<MeasuredStar>[2];
            Parallel.Invoke(
                () => stars[0] = StarMeasurement.BrightStars(sci, input.ScienceVariance, width, height),
                () => stars[1] = StarMeasurement.BrightStars(reference, input.ReferenceVariance, width, height));
            fwhmScienceStars = StarMeasurement.MedianFwhm(stars[0]);
            fwhmReferenceStars = StarMeasurement.MedianFwhm(stars[1]);
            match = FluxMatcher.Match(stars[0], stars[1], input.FallbackScale);
            if (!match.Matched)
                log.Warn($"flux matching: only {match.MatchedStars} star(s) matched between science and reference (need {FluxMatcher.MinMatchedStars}); scale {input.FallbackScale:G6} assumed");
            log.Info($"star FWHM (moments) science {fwhmScienceStars:F2} px, reference {fwhmReferenceStars:F2} px");
            log.Info($"flux scale {match.Scale:G6} from {match.MatchedStars} stars; dx median {match.DxMedian:F3} rms {match.DxRms:F3}, dy median {match.DyMedian:F3} rms {match.DyRms:F3} px");
        }

        // Masks before anything is estimated on the images: the reference where its coverage is low, the science
        // image around saturated pixels (their wings follow no PSF model).
        var nearSaturated = SaturationMask.Grow(input.Saturated, width, height, options.SaturationMaskRadius);
        var coverageMedian = RobustStatistics.Median(input.ReferenceCoverage);
        for (var i = 0; i < n; i++)
        {
            if (!(input.ReferenceCoverage[i] >= options.MinReferenceCoverage)) reference[i] = float.NaN;
            if (nearSaturated is not null && nearSaturated[i]) sci[i] = float.NaN;
        }
        var sciSigma = RobustStatistics.SigmaClip(sci).Sigma;
        var refSigma = RobustStatistics.SigmaClip(reference).Sigma;
        if (!(sciSigma > 0) || !(refSigma > 0))
            throw new InvalidImageException($"no background noise could be measured (science sigma {sciSigma:G4}, reference sigma {refSigma:G4} DN/s)");

        PsfModel sciPsf, refPsf;
        using (log.Step("psf"))
        {
            var estimator = new PsfEstimator();
            PsfModel? a = input.SciencePsf, b = input.ReferencePsf;
            Parallel.Invoke(
                () => a ??= estimator.Estimate(sci, width, height, sciSigma, double.PositiveInfinity),
                () => b ??= estimator.Estimate(reference, width, height, refSigma, double.PositiveInfinity));
            (sciPsf, refPsf) = (a!, b!);
            foreach (var (name, psf) in new[] { ("science", sciPsf), ("reference", refPsf) })
            {
                if (psf.IsFallback)
                    log.Warn($"psf: the {name} PSF is a {psf.Method} fallback (FWHM {psf.FwhmPixels:F2} px from {psf.StarsUsed} star(s)); too few bright isolated stars");
                log.Info($"{name} PSF: {psf.Method}, FWHM {psf.FwhmPixels:F2} px from {psf.StarsUsed} stars");
            }
        }

        using (log.Step("cosmic_rays"))
        {
            var rays = CosmicRayMask.Apply(sci, input.ScienceVariance, reference, input.ReferenceVariance, match.Scale, width, height, sciPsf.FwhmPixels, options.DetectionThresholdSigma);
            log.Info($"{rays.Features} feature(s) sharper than the PSF (FWHM {sciPsf.FwhmPixels:F2} px) masked as cosmic rays or hot pixels ({rays.Pixels} pixels)");
        }

        ZogyResult zogy;
        float[] diff, diffUncertainty;
        (double X, double Y) astrometric;
        using (log.Step("zogy"))
        {
            astrometric = (Math.Max(double.IsFinite(match.DxRms) ? match.DxRms : 0, options.AstrometricRmsFloor),
                           Math.Max(double.IsFinite(match.DyRms) ? match.DyRms : 0, options.AstrometricRmsFloor));
            var refVariance = VarianceWithSystematic(reference, input.ReferenceVariance, options.ReferenceSystematicFraction);
            var sciVariance = VarianceWithSystematic(sci, input.ScienceVariance, options.ScienceSystematicFraction);
            // sci = Scale * ref on matched stars, so F_n = 1 and F_r = 1 / Scale put D / F_D in the science image's DN/s.
            var fr = 1 / match.Scale;
            zogy = ZogySubtraction.Subtract(
                new ZogyImage(sci, width, height, sciPsf, sciSigma) { FluxScale = 1, Variance = sciVariance },
                new ZogyImage(reference, width, height, refPsf, refSigma) { FluxScale = fr, Variance = refVariance },
                astrometric.X, astrometric.Y);
            diff = zogy.DifferenceInFluxUnits();
            diffUncertainty = DifferenceUncertainty.PerPixel(zogy, input.ScienceVariance, input.ReferenceVariance, sciSigma, refSigma, 1, fr);
            log.Info($"ZOGY: F_D {zogy.FluxScale:G6}, sigma_x {astrometric.X:F3} px, sigma_y {astrometric.Y:F3} px, P_D FWHM {zogy.DifferencePsf.FwhmPixels:F2} px");
        }

        var sources = new List<DifferenceSource>();
        using (log.Step("detection"))
        {
            var detections = new PeakDetector(options.DetectionThresholdSigma).Detect(zogy.ScoreCorrected, zogy.ScoreCorrected, width, height);
            var fullBox = zogy.DifferencePsf.Size * zogy.DifferencePsf.Size;
            var flagRadius = options.SaturationMaskRadius + 2 * Math.Max(sciPsf.FwhmPixels, refPsf.FwhmPixels);
            var nearSaturatedWide = SaturationMask.Grow(input.Saturated, width, height, (int)Math.Ceiling(flagRadius));
            foreach (var d in detections.OrderBy(d => d.Y).ThenBy(d => d.X))
            {
                var flux = DifferencePhotometry.Measure(zogy, d.X, d.Y);
                var flags = DifferenceSourceFlags.None;
                if (flux.PixelsUsed < fullBox) flags |= DifferenceSourceFlags.Truncated;
                if (nearSaturatedWide is not null && nearSaturatedWide[d.PeakY * width + d.PeakX]) flags |= DifferenceSourceFlags.NearSaturated;
                sources.Add(new DifferenceSource(d.X, d.Y, flux.Flux, flux.FluxError, Math.Abs(d.PeakSignificance), d.Sign, flags));
            }
            log.Info($"{sources.Count} sources ({sources.Count(x => x.Sign > 0)} positive) above {options.DetectionThresholdSigma} sigma in S_corr");
        }

        var masked = 0;
        foreach (var v in diff) if (float.IsNaN(v)) masked++;
        return new DifferenceImagingResult
        {
            Difference = diff,
            DifferenceUncertainty = diffUncertainty,
            ScoreCorrected = zogy.ScoreCorrected,
            DifferencePsf = zogy.DifferencePsf,
            SciencePsf = sciPsf,
            ReferencePsf = refPsf,
            ZogyFluxScale = zogy.FluxScale,
            Match = match,
            AstrometricRms = astrometric,
            BackgroundScience = sciBackground.GlobalMedian,
            BackgroundReference = refBackground.GlobalMedian,
            FwhmScienceStars = fwhmScienceStars,
            FwhmReferenceStars = fwhmReferenceStars,
            MaskedFraction = masked / (double)n,
            CoverageMedian = coverageMedian,
            Sources = sources,
        };
    }

    /// <summary>V + (f I)^2: a variance image with a flux-proportional systematic term (f = 0 returns V itself).</summary>
    private static float[] VarianceWithSystematic(float[] image, float[] variance, double fraction)
    {
        if (!(fraction > 0)) return variance;
        var result = new float[variance.Length];
        var f2 = fraction * fraction;
        Parallel.For(0, (variance.Length + 65535) / 65536, chunk =>
        {
            for (var i = chunk * 65536; i < Math.Min(variance.Length, (chunk + 1) * 65536); i++)
            {
                var r = image[i];
                result[i] = float.IsFinite(r) ? (float)(variance[i] + f2 * r * r) : variance[i];
            }
        });
        return result;
    }
}
