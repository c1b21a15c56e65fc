using Rapid.Core.Contracts;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// The difference-imaging core of the science job (ppid 15), in memory, in timed steps:
/// background (mesh backgrounds of both images subtracted); masks (reference coverage below the minimum, saturated
/// stars out to where their light falls to a few sigma, by the science ePSF's profile, else saturated pixels grown by a
/// few pixels); psf (P_n and P_r from effective PSFs of each image as it enters ZOGY, the reference's built on the
/// science grid it was resampled to; beside it, the images' noise correlations and decoupled variance maps); flux_match (flux scale by forced photometry of
/// the reference's stars in both images cross-convolved with each other's PSF, its error, the registration offset and residuals; checked against the zero points' prediction);
/// background_offset (what the two mesh backgrounds left between the images); cosmic_rays (hot pixels and cosmic rays
/// of the science exposure masked); model_error (what each PSF model leaves of its image's stars); zogy (Zackay, Ofek
/// and Gal-Yam 2016: D, S_corr with source-noise, model-error, astrometric, flux-ratio and lost-flux variance, the
/// offset applied to R, P_D); detection (single-pixel extrema of S_corr, refined at sub-pixel offsets, ZOGY's optimal
/// flux alpha, confirmed by a PSF fit on D, the measurements behind the catalog flags).
/// An image whose flux scale, PSF or registration fails a check still gives products, with a warning of that kind.
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

        // Only the global levels are kept: the maps (an image-sized array each) are garbage once subtracted, before the
        // largest steps (ZOGY's transforms) allocate.
        double scienceLevel, referenceLevel;
        float[] sci, reference;
        using (log.Step("background"))
        {
            var estimator = new MeshBackgroundEstimator(options.BackgroundMeshSize);
            var pair = new BackgroundMap[2];
            Parallel.Invoke(
                () => pair[0] = estimator.Estimate(input.Science, width, height),
                () => pair[1] = estimator.Estimate(input.Reference, width, height));
            (scienceLevel, referenceLevel) = (pair[0].GlobalMedian, pair[1].GlobalMedian);
            sci = pair[0].Subtract(input.Science);
            reference = pair[1].Subtract(input.Reference);
        }
        if (input.PendingScienceEffectivePsf is { } pending) input = input with { ScienceEffectivePsf = pending.GetAwaiter().GetResult(), PendingScienceEffectivePsf = null };

        // Masks before anything is estimated on the images: the reference where its coverage is low, the science
        // image around saturated pixels (their wings follow no PSF model).
        double coverageMedian, sciSigma, refSigma;
        IReadOnlyList<SaturatedStar> saturatedStars = [];
        using (log.Step("masks"))
        {
            // A saturated star is masked out to where its light falls to a few sigma (its profile from the ePSF), not a fixed margin.
            if (input.ScienceEffectivePsf is { } epsf && input.Saturated is not null)
            {
                var noise = RobustStatistics.SigmaClip(Subsample(sci)).Sigma;
                if (noise > 0)
                    saturatedStars = SaturatedStars.CoveringReferenceHoles(
                        SaturatedStars.Measure(input.Saturated, sci, width, height, epsf, noise, options.SaturationWingSigma, options.SaturationMaskRadius, options.SaturationMaskMaxRadius),
                        reference, width, height, Resampling.LanczosKernel.HalfWidth, options.SaturationMaskMaxRadius);
                if (saturatedStars.Count > 0)
                    log.Info($"{saturatedStars.Count} saturated star(s) masked out to {saturatedStars.Min(x => x.MaskRadius):F1}-{saturatedStars.Max(x => x.MaskRadius):F1} px (where their light falls to {options.SaturationWingSigma:G3} sigma, and over the reference's hole and {Resampling.LanczosKernel.HalfWidth} px beyond)");
            }
            var nearSaturated = SaturatedStars.Mask(saturatedStars, input.Saturated, width, height, options.SaturationMaskRadius, 0);
            coverageMedian = RobustStatistics.Median(Subsample(input.ReferenceCoverage));
            Parallel.For(0, height, y =>
            {
                for (var i = y * width; i < (y + 1) * width; i++)
                {
                    if (!(input.ReferenceCoverage[i] >= options.MinReferenceCoverage)) reference[i] = float.NaN;
                    if (nearSaturated is not null && nearSaturated[i]) sci[i] = float.NaN;
                }
            });
            double a = 0, b = 0;
            Parallel.Invoke(() => a = RobustStatistics.SigmaClip(Subsample(sci)).Sigma, () => b = RobustStatistics.SigmaClip(Subsample(reference)).Sigma);
            (sciSigma, refSigma) = (a, b);
        }
        if (!(sciSigma > 0) || !(refSigma > 0))
            throw new InvalidImageException($"no background noise could be measured (science sigma {sciSigma:G4}, reference sigma {refSigma:G4} DN/s)");

        // P_n and P_r are effective PSFs (Anderson & King 2000, PASP 112, 1360): the science image's, built on the
        // calibrated image before fakes were injected (built here when the caller has none), and one built here on the
        // reference as resampled onto the science grid, so that it holds the resampling's smoothing. ZOGY takes a
        // shift-invariant stamp on the native grid: each ePSF's phase-averaged stamp at the image centre
        // (EffectivePsf.PhaseAveragedModelAt). A PSF given by the caller (a PSF file) replaces its image's.
        PsfModel sciPsf, refPsf;
        EffectivePsf? sciEpsf = null, refEpsf = null;
        // The noise as weighted sums see it (NoiseCorrelation): the images' autocorrelations (the stars' flux errors in
        // flux_match and ZOGY's sums) and the variance maps that do not follow each pixel's own noise (ZOGY's variance).
        // They need only the masked images and their variances, none of which change before ZOGY reads them, so they are
        // computed here beside the reference's ePSF, which runs on about one core (its step's CPU includes them).
        var (sciRho, refRho) = ((double[]?)null, (double[]?)null);
        var (sciVariance, refVariance) = (input.ScienceVariance, input.ReferenceVariance);
        using (log.Step("psf"))
        {
            var builder = new EffectivePsfBuilder(options.Psf);
            Parallel.Invoke(
                () => { if (input.SciencePsf is null) sciEpsf = input.ScienceEffectivePsf ?? builder.Build(sci, width, height, sciSigma, double.PositiveInfinity); },
                () => { if (input.ReferencePsf is null) refEpsf = builder.Build(reference, width, height, refSigma, double.PositiveInfinity); },
                () => Parallel.Invoke(
                    () => sciRho = NoiseCorrelation.Autocorrelation(sci, width, height, sciSigma),
                    () => refRho = NoiseCorrelation.Autocorrelation(reference, width, height, refSigma),
                    () => sciVariance = NoiseCorrelation.Decoupled(input.ScienceVariance, width, height),
                    () => refVariance = NoiseCorrelation.Decoupled(input.ReferenceVariance, width, height)));
            var (cx, cy) = ((width - 1) / 2.0, (height - 1) / 2.0);
            sciPsf = input.SciencePsf ?? sciEpsf!.PhaseAveragedModelAt(cx, cy, options.Psf.StampSize);
            refPsf = input.ReferencePsf ?? refEpsf!.PhaseAveragedModelAt(cx, cy, options.Psf.StampSize);
            foreach (var (name, psf, epsf) in new[] { ("science", sciPsf, sciEpsf), ("reference", refPsf, refEpsf) })
            {
                if (epsf is null)
                {
                    log.Info($"{name} PSF: {psf.Method} (given), FWHM {psf.FwhmPixels:F2} px");
                    continue;
                }
                // Too few stars: the builder's pixel-integrated Gaussian of their width (or of the default FWHM) is P.
                if (epsf.IsFallback)
                    log.Warn(JobWarningKind.Psf, $"psf: the {name} PSF is a {epsf.Method} fallback (FWHM {epsf.FwhmPixels:F2} px from {epsf.StarsUsed} star(s), "
                                                 + $"{options.Psf.MinimumStars} needed for an ePSF); too few bright isolated stars");
                log.Info($"{name} P for ZOGY from its ePSF: {epsf.Method} from {epsf.StarsUsed} stars, oversampling {epsf.Oversampling}, "
                         + $"variation degree {epsf.Degree}, FWHM {epsf.FwhmPixels:F2} px");
            }
        }

        FluxMatch match;
        double fwhmScienceStars, fwhmReferenceStars;
        using (log.Step("flux_match"))
        {
            var flux = new CrossConvolvedFlux(sciPsf, refPsf, sciRho, refRho, options.FluxMatchApertureFwhm, StarPairs.ApertureRadius, options.FluxMatchMaxApertureShare);
            var (sciStars, refStars) = StarPairs.Measure(sci, input.ScienceVariance, reference, input.ReferenceVariance, width, height, sciPsf.FwhmPixels, refPsf.FwhmPixels, flux);
            fwhmScienceStars = StarMeasurement.MedianFwhm(sciStars);
            fwhmReferenceStars = StarMeasurement.MedianFwhm(refStars);
            match = CheckedFluxScale(FluxMatcher.Match(sciStars, refStars, input.PredictedScale ?? 1.0), input.PredictedScale, options, log);
            log.Info($"star FWHM (moments) science {fwhmScienceStars:F2} px, reference {fwhmReferenceStars:F2} px");
            log.Info($"flux scale {match.Scale:G6} ± {match.ScaleError:P2} from {match.ConstantStars.Count} of {match.MatchedStars} stars in {flux.ApertureRadius:F1} px apertures on cross-convolved images (noise-correlation factors {flux.VarianceFactors.Science:F3}, {flux.VarianceFactors.Reference:F3}), aperture correction to {StarPairs.ApertureRadius} px {match.ApertureCorrection.Factor:F4} ± {match.ApertureCorrection.Error:P2} from {match.ApertureCorrection.Stars} stars"
                     + (input.PredictedScale is double p ? $" (zero points predict {p:G6})" : "")
                     + $"; astrometry from {match.PointLike.Count} point-like: dx median {match.DxMedian:F3} residual {match.DxRms:F3}, dy median {match.DyMedian:F3} residual {match.DyRms:F3} px");
            CheckAstrometry(match, options, log);
        }

        // The mesh backgrounds are each biased by their images' star wings, differently for different PSFs; an offset of
        // a few per cent of the pixel noise already shifts S_corr's mean by a tenth of a sigma (the matched filter sums
        // it over the PSF's area). The sigma-clipped median of the plain difference sci - Scale * ref away from sources
        // measures what is left, and the science image is levelled by it. (Near stars the two PSFs differ: a sharper
        // science PSF leaves a positive core and a wider negative ring, which would bias the median.)
        using (log.Step("background_offset"))
        {
            var offset = BackgroundOffset(sci, reference, match.Scale, refSigma);
            if (double.IsFinite(offset))
            {
                var level = (float)offset;
                Parallel.For(0, height, y => { for (var i = y * width; i < (y + 1) * width; i++) sci[i] -= level; });
                log.Info($"background offset between science and scaled reference {offset:G4} DN/s removed");
            }
        }

        using (log.Step("cosmic_rays"))
        {
            // Sharper than the science ePSF allows at any phase when there is one (it is pixel-integrated already).
            var sharpness = input.ScienceEffectivePsf is { } epsf ? SharpnessFilter.ForEffectivePsf(epsf) : new SharpnessFilter(sciPsf.FwhmPixels);
            var rays = CosmicRayMask.Apply(sci, input.ScienceVariance, reference, input.ReferenceVariance, match.Scale, width, height, sharpness, options.DetectionThresholdSigma);
            log.Info($"{rays.Features} feature(s) sharper than the PSF (an edge neighbour below {sharpness.MinNeighbourRatio:P1} of the peak) masked as cosmic rays or hot pixels ({rays.Pixels} pixels)");
            var refRays = CosmicRayMask.ApplyToReference(reference, input.ReferenceVariance, sci, input.ScienceVariance, input.ReferenceCoverage, match.Scale, width, height, refPsf.FwhmPixels, options.DetectionThresholdSigma);
            log.Info($"{refRays.Features} feature(s) sharper than the reference PSF (FWHM {refPsf.FwhmPixels:F2} px) masked in the reference where fewer than {CosmicRayMask.MinFramesForRejection} frames cover it ({refRays.Pixels} pixels)");
        }

        PsfModelErrorEstimate sciModel, refModel;
        using (log.Step("model_error"))
        {
            var (s, r) = (PsfModelErrorEstimate.None, PsfModelErrorEstimate.None);
            Parallel.Invoke(
                () => s = PsfModelError.Measure(sci, input.ScienceVariance, width, height, sciPsf, match.PointLike.Select(p => (p.X, p.Y))),
                () => r = PsfModelError.Measure(reference, input.ReferenceVariance, width, height, refPsf, match.PointLikeReference.Select(p => (p.X, p.Y))));
            (sciModel, refModel) = (s, r);
            log.Info($"PSF model error: science width {sciModel.Width:F3} px^2, rest {sciModel.Fraction:P2} from {sciModel.Stars} stars; reference width {refModel.Width:F3} px^2, rest {refModel.Fraction:P2} from {refModel.Stars} stars");
            foreach (var (name, estimate) in new[] { ("science", sciModel), ("reference", refModel) })
                if (estimate.Fraction > options.MaxPsfModelError)
                    log.Warn(JobWarningKind.Psf, $"psf: the {name} PSF model leaves {estimate.Fraction:P1} of its stars' light (more than {options.MaxPsfModelError:P0})");
        }

        ZogyResult zogy;
        float[] diff, diffUncertainty;
        ZogyRegistration registration;
        using (log.Step("zogy"))
        {
            registration = new ZogyRegistration
            {
                AstrometricRmsX = Finite(match.DxRms), AstrometricRmsY = Finite(match.DyRms),
                ReferenceShiftX = match.Matched ? match.DxMedian : 0, ReferenceShiftY = match.Matched ? match.DyMedian : 0,
                FluxRatioError = Finite(match.ScaleError),
            };
            // sci = Scale * ref on matched stars, so F_n = 1 and F_r = 1 / Scale put D / F_D in the science image's DN/s.
            var fr = 1 / match.Scale;
            zogy = ZogySubtraction.Subtract(
                new ZogyImage(sci, width, height, sciPsf, sciSigma)
                {
                    FluxScale = 1, Variance = sciVariance, NoiseAutocorrelation = sciRho,
                    ModelErrorFraction = sciModel.Fraction, WidthErrorPixels2 = sciModel.Width,
                },
                new ZogyImage(reference, width, height, refPsf, refSigma)
                {
                    FluxScale = fr, Variance = refVariance, NoiseAutocorrelation = refRho,
                    ModelErrorFraction = refModel.Fraction, WidthErrorPixels2 = refModel.Width,
                },
                registration);
            // The transforms' pooled buffers (3 x 68 MB at 4088^2) are not needed by anything that follows.
            Fft.FftwBuffer.TrimPool();
            diff = zogy.DifferenceInFluxUnits();
            diffUncertainty = DifferenceUncertainty.PerPixel(zogy, input.ScienceVariance, input.ReferenceVariance, sciSigma, refSigma, 1, fr);
            log.Info($"ZOGY: noise-correlation factors science {zogy.Local.Noise.NewVarianceFactor:F3}, reference {zogy.Local.Noise.ReferenceVarianceFactor:F3}; kernels reach {zogy.Kernels.Reach} px");
            log.Info($"ZOGY: F_D {zogy.FluxScale:G6}, F_S {zogy.Kernels.ScoreFluxScale:G6}, reference shifted by ({registration.ReferenceShiftX:F3}, {registration.ReferenceShiftY:F3}) px, "
                     + $"sigma_x {registration.AstrometricRmsX:F3} px, sigma_y {registration.AstrometricRmsY:F3} px, flux-ratio error {registration.FluxRatioError:P2}, P_D FWHM {zogy.DifferencePsf.FwhmPixels:F2} px");
        }

        List<DifferenceSource> sources;
        DifferenceMeasurement measurement;
        using (log.Step("detection"))
        {
            var local = zogy.Local.WithDifference(diff, diffUncertainty);
            var detector = new TransientDetector(zogy.Kernels, zogy.Local.Noise, new TransientDetectorSettings
            {
                ThresholdSigma = options.DetectionThresholdSigma,
                FalseDetectionsPerMegapixel = options.FalseDetectionsPerMegapixel,
                ConfirmationFraction = options.ConfirmationFraction,
                PoorFitProbability = options.PoorFitProbability,
                RejectFitProbability = options.RejectFitProbability,
                RejectResidualFraction = options.RejectFitResidualFraction,
            });
            var byStars = FluxNormalisation.Measure(sci, input.ScienceVariance, width, height, local, detector, match.PointLike);
            log.Info($"flux normalisation by the stars {byStars.Factor:F4} ± {byStars.Error:P2}, scatter {byStars.Scatter:P2}, from {byStars.Stars} stars (total flux in {StarPairs.ApertureRadius} px over ZOGY's alpha)");
            var normalisation = byStars;
            if (input.ScienceEffectivePsf is { } epsf)
            {
                var byEpsf = FluxNormalisation.FromEffectivePsf(epsf, detector, width, height);
                log.Info($"flux normalisation by the science ePSF at each source's phase: {byEpsf.Factor:F4} on average, {byEpsf.Scatter:P2} rms over the phases, ± {byEpsf.Error:P2} (the ePSF's wing light)");
                // An ePSF built from few stars can be off by more than the stars' own measurement of the same factor (the
                // demo's 1024² images: 10 stars, ±15 %); it is trusted only while the stars it came from agree with it.
                if (byStars.Stars == 0 || Math.Abs(byEpsf.Factor / byStars.Factor - 1) <= options.MaxFluxNormalisationOffset)
                    normalisation = byEpsf;
                else
                    log.Warn(JobWarningKind.Psf, $"psf: the science ePSF's flux normalisation {byEpsf.Factor:F4} disagrees with the stars' {byStars.Factor:F4} "
                                                 + $"by more than {options.MaxFluxNormalisationOffset:P0}; the stars' is used");
            }
            if (normalisation.Stars > 0 && Math.Abs(normalisation.Factor - 1) > options.MaxFluxNormalisationOffset)
                log.Warn(JobWarningKind.Psf, $"psf: the science PSF model puts {1 / normalisation.Factor:P1} of the stars' light into ZOGY's flux (measured on {normalisation.Stars} stars); fluxes are corrected by {normalisation.Factor:F4}");
            var nearSaturated = SaturatedStars.Mask(saturatedStars, input.Saturated, width, height, options.SaturationMaskRadius, 2 * Math.Max(sciPsf.FwhmPixels, refPsf.FwhmPixels));
            measurement = new DifferenceMeasurement(local, detector, normalisation, input.ReferenceCoverage, nearSaturated);
            var found = detector.Detect(local, ScoreMap.Whole(zogy), 0, 0, width, height);
            sources = found.Select(measurement.ToSource).OrderBy(s => s.Y).ThenBy(s => s.X).ToList();
            log.Info($"{sources.Count} sources ({sources.Count(x => x.Sign > 0)} positive) above {detector.Threshold:F2} sigma in S_corr "
                     + $"(at least {options.DetectionThresholdSigma}, where noise peaks {2e6 * detector.NoisePeaksPerPixel * detector.Threshold * Math.Exp(-detector.Threshold * detector.Threshold / 2):F2} times per 10^6 px; "
                     + $"candidates from {detector.CandidateThreshold:F2} sigma: a pixel keeps {detector.WorstPhaseFraction:P0} of a source's score at the worst phase)");
        }

        long masked = 0;
        foreach (var v in diff) if (float.IsNaN(v)) masked++;
        return new DifferenceImagingResult
        {
            Difference = diff,
            DifferenceUncertainty = diffUncertainty,
            ScoreCorrected = zogy.ScoreCorrected,
            DifferencePsf = zogy.DifferencePsf,
            SciencePsf = sciPsf,
            ReferencePsf = refPsf,
            ScienceEffectivePsf = sciEpsf,
            ReferenceEffectivePsf = refEpsf,
            ZogyFluxScale = zogy.FluxScale,
            Match = match,
            AstrometricRms = (registration.AstrometricRmsX, registration.AstrometricRmsY),
            ModelError = (sciModel.Fraction, refModel.Fraction),
            BackgroundScience = scienceLevel,
            BackgroundReference = referenceLevel,
            FwhmScienceStars = fwhmScienceStars,
            FwhmReferenceStars = fwhmReferenceStars,
            MaskedFraction = masked / (double)n,
            CoverageMedian = coverageMedian,
            Sources = sources,
            SaturatedStars = saturatedStars,
            Measurement = measurement,
            DetectionThreshold = measurement.Detector.Threshold,
        };
    }

    private static double Finite(double value) => double.IsFinite(value) && value > 0 ? value : 0;

    /// <summary>
    /// The flux scale, checked: with fewer than <see cref="DifferenceImagingOptions.MinFluxScaleStars"/> constant stars it
    /// cannot be trusted and the zero points' prediction is used when there is one; a measured scale that disagrees with
    /// the prediction by more than the tolerance (or three times its own error) is kept (the pixels say so) with a warning.
    /// </summary>
    private static FluxMatch CheckedFluxScale(FluxMatch measured, double? predicted, DifferenceImagingOptions options, IDifferenceImagingLog log)
    {
        if (!measured.Matched || measured.ConstantStars.Count < options.MinFluxScaleStars)
        {
            var fallback = predicted ?? 1.0;
            log.Warn(JobWarningKind.FluxScale, $"flux matching: only {measured.ConstantStars.Count} star(s) measured the flux scale (need {options.MinFluxScaleStars}); "
                     + (predicted is null ? "scale 1 assumed (no zero points to predict it)" : $"the zero points' {fallback:G6} used"));
            return measured with { Matched = false, Scale = fallback, ScaleError = 0 };
        }
        if (predicted is double p && p > 0)
        {
            var offset = Math.Log(measured.Scale / p);
            if (Math.Abs(offset) > Math.Max(options.FluxScaleTolerance, 3 * measured.ScaleError))
                log.Warn(JobWarningKind.FluxScale, $"flux matching: the measured flux scale {measured.Scale:G6} ± {measured.ScaleError:P1} differs from the zero points' {p:G6} by {Math.Exp(offset) - 1:+0.0%;-0.0%} (tolerance {options.FluxScaleTolerance:P0})");
        }
        return measured;
    }

    /// <summary>A registration whose residuals or offset exceed the limits is a warning: the subtraction will leave dipoles.</summary>
    private static void CheckAstrometry(FluxMatch match, DifferenceImagingOptions options, IDifferenceImagingLog log)
    {
        if (!match.Matched) return;
        var residual = Math.Max(Finite(match.DxRms), Finite(match.DyRms));
        var offset = Math.Sqrt(match.DxMedian * match.DxMedian + match.DyMedian * match.DyMedian);
        if (residual > options.MaxAstrometricResidual)
            log.Warn(JobWarningKind.Astrometry, $"astrometry: registration residuals of {residual:F3} px (more than {options.MaxAstrometricResidual:F2} px) between science and reference stars");
        if (offset > options.MaxAstrometricOffset)
            log.Warn(JobWarningKind.Astrometry, $"astrometry: the reference is offset from the science image by {offset:F3} px (more than {options.MaxAstrometricOffset:F2} px); the WCS of one of them is off");
    }

    /// <summary>
    /// Sigma-clipped median of sci - scale * ref (DN/s) over a regular sample of the valid pixels where the (deep)
    /// reference shows no source: within 1 px (along the row) of a reference pixel beyond ±3 sigma_r nothing is used. NaN if none.
    /// </summary>
    private static double BackgroundOffset(float[] sci, float[] reference, double scale, double referenceSigma)
    {
        var limit = 3 * referenceSigma;
        var stride = Stride(sci.Length);
        var values = new float[(sci.Length + stride - 1) / stride];
        var count = 0;
        for (var i = 0; i < sci.Length; i += stride)
        {
            if (NearSource(reference, i, limit)) continue;
            var d = sci[i] - scale * reference[i];
            if (double.IsFinite(d)) values[count++] = (float)d;
        }
        return count == 0 ? double.NaN : RobustStatistics.SigmaClip(values.AsSpan(0, count)).Median;
    }

    /// <summary>True when |ref| at i or at a neighbour in its row exceeds the limit (both signs, so the noise is cut symmetrically and the median stays unbiased).</summary>
    private static bool NearSource(float[] reference, int i, double limit)
    {
        foreach (var k in (ReadOnlySpan<int>)[0, -1, 1])
        {
            var j = i + k;
            if (j >= 0 && j < reference.Length && Math.Abs(reference[j]) > limit) return true;
        }
        return false;
    }

    /// <summary>
    /// Every k-th value, k chosen so that at most ~2^20 remain: noise and level statistics of a 4088^2 image need no
    /// more than a million pixels, and the clipped statistics of all 16.7 million take seconds.
    /// </summary>
    private static float[] Subsample(float[] values)
    {
        var stride = Stride(values.Length);
        if (stride == 1) return values;
        var result = new float[(values.Length + stride - 1) / stride];
        for (var k = 0; k < result.Length; k++) result[k] = values[(long)k * stride];
        return result;
    }

    /// <summary>An odd stride (so the sample does not fall on one column of the row-major image) for ~2^20 samples.</summary>
    private static int Stride(int length) => Math.Max(1, length >> 20) | 1;
}
