using Rapid.Core.Contracts;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// The difference-imaging core of the science job (ppid 15), in memory, in timed steps:
/// background (mesh backgrounds of both images subtracted); masks (reference coverage below the minimum); psf (empirical PSFs of each image as it enters ZOGY, the reference's on the
/// science grid it was resampled to: effective PSFs, Anderson &amp; King 2000); saturation_mask (saturated stars masked
/// out to where their light falls to a few sigma, <see cref="SaturatedStars"/>); flux_match (flux scale from matched stars, corrected for each PSF's aperture
/// losses, and the astrometric residuals); background_offset (what the two mesh backgrounds left between the images);
/// cosmic_rays (hot pixels and cosmic rays of the science exposure masked); zogy (Zackay, Ofek and Gal-Yam 2016: D,
/// S_corr with source-noise, model-error and astrometric variance, P_D); detection (peaks of |S_corr| above the
/// threshold, PSF-fit on D with a DAOPHOT-style aperture correction, flagged near saturated stars).
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

        // Masks before anything is estimated on the images: the reference where its coverage is low (the science
        // image's saturated pixels are NaN already; the masks around them grow with each star's brightness, below).
        double coverageMedian, sciSigma, refSigma;
        using (log.Step("masks"))
        {
            coverageMedian = RobustStatistics.Median(Subsample(input.ReferenceCoverage));
            Parallel.For(0, height, y =>
            {
                for (var i = y * width; i < (y + 1) * width; i++)
                    if (!(input.ReferenceCoverage[i] >= options.MinReferenceCoverage)) reference[i] = float.NaN;
            });
            double a = 0, b = 0;
            Parallel.Invoke(() => a = RobustStatistics.SigmaClip(Subsample(sci)).Sigma, () => b = RobustStatistics.SigmaClip(Subsample(reference)).Sigma);
            (sciSigma, refSigma) = (a, b);
        }
        if (!(sciSigma > 0) || !(refSigma > 0))
            throw new InvalidImageException($"no background noise could be measured (science sigma {sciSigma:G4}, reference sigma {refSigma:G4} DN/s)");

        // Effective PSFs (Anderson & King 2000) of both images as they enter ZOGY; P_n and P_r are their phase-averaged
        // native stamps at the image centre (EffectivePsf.PhaseAveragedModelAt: on the 4 simulated pairs of
        // DifferenceImagingQualityTests, 0 false detections against 15 with phase-0 samples, whose noise ZOGY prints
        // around every star). The science ePSF normally comes built before fake sources were injected.
        PsfModel sciPsf, refPsf;
        EffectivePsf? sciEpsf = input.SciencePsf is null ? input.ScienceEffectivePsf : null, refEpsf = null;
        using (log.Step("psf"))
        {
            var builder = new EffectivePsfBuilder(options.Psf);
            Parallel.Invoke(
                () => { if (input.SciencePsf is null) sciEpsf ??= builder.Build(sci, width, height, sciSigma, double.PositiveInfinity); },
                () => { if (input.ReferencePsf is null) refEpsf = builder.Build(reference, width, height, refSigma, double.PositiveInfinity); });
            var (cx, cy) = ((width - 1) / 2.0, (height - 1) / 2.0);
            sciPsf = input.SciencePsf ?? sciEpsf!.PhaseAveragedModelAt(cx, cy, options.Psf.StampSize);
            refPsf = input.ReferencePsf ?? refEpsf!.PhaseAveragedModelAt(cx, cy, options.Psf.StampSize);
            foreach (var (name, psf, epsf) in new[] { ("science", sciPsf, sciEpsf), ("reference", refPsf, refEpsf) })
            {
                if (psf.IsFallback)
                    log.Warn(JobWarningKind.Psf, $"psf: the {name} PSF is a {psf.Method} fallback (FWHM {psf.FwhmPixels:F2} px from {psf.StarsUsed} star(s)); too few bright isolated stars");
                log.Info(epsf is null
                    ? $"{name} PSF: {psf.Method}, FWHM {psf.FwhmPixels:F2} px"
                    : $"{name} ePSF: {epsf.Method} from {epsf.StarsUsed} stars, oversampling {epsf.Oversampling}, variation degree {epsf.Degree}, FWHM {epsf.FwhmPixels:F2} px");
            }
        }

        // Saturated stars masked out to where their light falls to a few sigma of the noise (SaturatedStars): the science
        // image's saturated pixels, and the reference's holes inside its coverage (cores saturated in its frames, which
        // the resampling masks), measured on the science image.
        IReadOnlyList<SaturatedStar> saturatedStars;
        bool[]? saturated;
        using (log.Step("saturation_mask"))
        {
            saturated = SaturatedOrLost(input, reference);
            saturatedStars = SaturatedStars.Measure(saturated, sci, width, height, sciEpsf ?? EffectivePsf.FromModel(sciPsf), sciSigma,
                options.SaturationWingSigma, options.SaturationMaskRadius, options.SaturationMaskMaxRadius);
            var mask = SaturatedStars.Mask(saturatedStars, saturated, width, height, options.SaturationMaskRadius, 0);
            if (mask is not null)
                Parallel.For(0, height, y => { for (var i = y * width; i < (y + 1) * width; i++) if (mask[i]) sci[i] = float.NaN; });
            if (saturatedStars.Count > 0)
                log.Info($"{saturatedStars.Count} saturated star(s) masked out to {saturatedStars.Min(x => x.MaskRadius):F1}-{saturatedStars.Max(x => x.MaskRadius):F1} px, "
                         + $"where their light falls to {options.SaturationWingSigma:G3} sigma");
        }

        FluxMatch match;
        double fwhmScienceStars, fwhmReferenceStars;
        IReadOnlyList<MeasuredStar> scienceStars;
        using (log.Step("flux_match"))
        {
            var stars = new IReadOnlyList<MeasuredStar>[2];
            Parallel.Invoke(
                () => stars[0] = StarMeasurement.BrightStars(sci, input.ScienceVariance, width, height, apertureRadius: StarApertureRadius),
                () => stars[1] = StarMeasurement.BrightStars(reference, input.ReferenceVariance, width, height, apertureRadius: StarApertureRadius));
            scienceStars = stars[0];
            fwhmScienceStars = StarMeasurement.MedianFwhm(stars[0]);
            fwhmReferenceStars = StarMeasurement.MedianFwhm(stars[1]);
            var measured = FluxMatcher.Match(stars[0], stars[1], input.FallbackScale);
            // The stars' fluxes are in a 5 px aperture, which holds less of a broad PSF's light than of a sharp one's
            // (Moffat wings). The scale is therefore re-measured on the constant point-like stars in a wide aperture
            // (WideApertureRadius), which holds all but a few 1e-3 of either PSF's light, so no PSF model enters it.
            // The former correction by the stamps' 5 px light fractions was 1.5 % high at 4088^2 (scale 3357-3362
            // against 3307-3311 from 10-15 px apertures with a local sky on isolated true stars): the undersampled
            // science stamp puts 1.2 % too little light within 5 px (0.9775 against the stars' 0.989).
            var wide = measured.Matched ? WideApertureScale(sci, input.ScienceVariance, reference, input.ReferenceVariance, width, height, measured.PointLike) : double.NaN;
            match = double.IsFinite(wide) ? measured with { Scale = wide } : measured with { Scale = measured.Scale * (measured.Matched ? ApertureFraction(refPsf) / ApertureFraction(sciPsf) : 1.0) };
            log.Info($"flux scale in {WideApertureRadius} px apertures {wide:G6} (in {StarApertureRadius} px {measured.Scale:G6}; PSF light within {StarApertureRadius} px: science {ApertureFraction(sciPsf):F4}, reference {ApertureFraction(refPsf):F4})");
            if (!match.Matched)
                log.Warn(JobWarningKind.FluxScale, $"flux matching: only {match.MatchedStars} star(s) matched between science and reference (need {FluxMatcher.MinMatchedStars}); scale {input.FallbackScale:G6} assumed");
            log.Info($"star FWHM (moments) science {fwhmScienceStars:F2} px, reference {fwhmReferenceStars:F2} px");
            log.Info($"flux scale {match.Scale:G6} from {match.ConstantStars.Count} of {match.MatchedStars} matched stars (astrometry from {match.PointLike.Count} point-like); dx median {match.DxMedian:F3} rms {match.DxRms:F3}, dy median {match.DyMedian:F3} rms {match.DyRms:F3} px");
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
            var rays = CosmicRayMask.Apply(sci, input.ScienceVariance, reference, input.ReferenceVariance, match.Scale, width, height, sciPsf.FwhmPixels, options.DetectionThresholdSigma);
            log.Info($"{rays.Features} feature(s) sharper than the PSF (FWHM {sciPsf.FwhmPixels:F2} px) masked as cosmic rays or hot pixels ({rays.Pixels} pixels)");
            var refRays = CosmicRayMask.ApplyToReference(reference, input.ReferenceVariance, sci, input.ScienceVariance, input.ReferenceCoverage, match.Scale, width, height, refPsf.FwhmPixels, options.DetectionThresholdSigma);
            log.Info($"{refRays.Features} feature(s) sharper than the reference PSF (FWHM {refPsf.FwhmPixels:F2} px) masked in the reference where fewer than {CosmicRayMask.MinFramesForRejection} frames cover it ({refRays.Pixels} pixels)");
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
            // Masked pixels are zeroed in both images, so a saturated star's wing is cut to a step at its mask's edge, which
            // the two kernels smear differently over a few FWHM: the products are masked that much further out (on the
            // gnuastro independent set, 6 rows of S/N 7-9 lay 0.5-1 px outside a 10.5 px mask).
            var smeared = SaturatedStars.Mask(saturatedStars, saturated, width, height, options.SaturationMaskRadius, SmearFwhms * Math.Max(sciPsf.FwhmPixels, refPsf.FwhmPixels));
            if (smeared is not null)
            {
                var (score, d, u) = (zogy.ScoreCorrected, diff, diffUncertainty);
                Parallel.For(0, height, y => { for (var i = y * width; i < (y + 1) * width; i++) if (smeared[i]) score[i] = d[i] = u[i] = float.NaN; });
            }
        }

        var sources = new List<DifferenceSource>();
        using (log.Step("detection"))
        {
            var detections = new PeakDetector(options.DetectionThresholdSigma).Detect(zogy.ScoreCorrected, zogy.ScoreCorrected, width, height);
            var fullBox = zogy.DifferencePsf.Size * zogy.DifferencePsf.Size;
            // Only the point-like stars of constant flux (FluxMatcher): at 4088^2 the bright "stars" held 86 galaxies
            // (aperture / PSF-fit flux 1.72) and 103 transients on hosts (1.14) beside 76 stars (1.0075), so the plain
            // median came to 1.21 and sat on the clamp, biasing every flux by +10 %.
            var correctionStars = match.PointLike.Count >= 5 ? match.PointLike : scienceStars;
            var (photometryCorrection, fitSystematic) = PsfFitApertureCorrection(sci, input.ScienceVariance, width, height, sciPsf, correctionStars);
            log.Info($"PSF-fit aperture correction {photometryCorrection:F4} from {correctionStars.Count} of the science image's stars; star-to-star systematic {fitSystematic:P2}");
            var nearSaturatedWide = SaturatedStars.Mask(saturatedStars, saturated, width, height, options.SaturationMaskRadius, 2 * SmearFwhms * Math.Max(sciPsf.FwhmPixels, refPsf.FwhmPixels));
            foreach (var d in detections.OrderBy(d => d.Y).ThenBy(d => d.X))
            {
                var (px, py) = SubPixelPeak(zogy.ScoreCorrected, width, height, d.PeakX, d.PeakY);
                var flux = DifferencePhotometry.Measure(zogy, diffUncertainty, px, py);
                var flags = DifferenceSourceFlags.None;
                if (flux.PixelsUsed < fullBox) flags |= DifferenceSourceFlags.Truncated;
                if (nearSaturatedWide is not null && nearSaturatedWide[d.PeakY * width + d.PeakX]) flags |= DifferenceSourceFlags.NearSaturated;
                // FLUXERR: the fit's statistical error and, in quadrature, the star-to-star systematic measured on the stars
                // (0.9 % at 4088^2: bright transients had a fractional scatter of 2.0 % against an error of 1.4 % at S/N 50-100).
                var (f, e) = (photometryCorrection * flux.Flux, photometryCorrection * flux.FluxError);
                sources.Add(new DifferenceSource(px, py, f, Math.Sqrt(e * e + fitSystematic * fitSystematic * f * f), Math.Abs(d.PeakSignificance), d.Sign, flags));
            }
            log.Info($"{sources.Count} sources ({sources.Count(x => x.Sign > 0)} positive) above {options.DetectionThresholdSigma} sigma in S_corr");
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

    /// <summary>
    /// The science image's saturated pixels and the reference's holes: compact groups of NaN (at most
    /// <see cref="MaxHolePixels"/>, not touching the image's edge, unlike its uncovered margins), which are cores that
    /// saturated in all its frames; null when there are none.
    /// </summary>
    private static bool[]? SaturatedOrLost(DifferenceImagingInput input, float[] reference)
    {
        var (width, height) = (input.Width, input.Height);
        var result = input.Saturated is null ? new bool[reference.Length] : (bool[])input.Saturated.Clone();
        var any = input.Saturated?.Contains(true) ?? false;
        var seen = new bool[reference.Length];
        var stack = new Stack<int>();
        var members = new List<int>();
        for (var start = 0; start < reference.Length; start++)
        {
            if (seen[start] || !float.IsNaN(reference[start])) continue;
            members.Clear();
            var touchesEdge = false;
            seen[start] = true;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var p = stack.Pop();
                if (members.Count <= MaxHolePixels) members.Add(p);
                var (px, py) = (p % width, p / width);
                touchesEdge |= px == 0 || py == 0 || px == width - 1 || py == height - 1;
                foreach (var (dx, dy) in (ReadOnlySpan<(int, int)>)[(1, 0), (-1, 0), (0, 1), (0, -1)])
                {
                    var (x, y) = (px + dx, py + dy);
                    if (x < 0 || y < 0 || x >= width || y >= height) continue;
                    var q = y * width + x;
                    if (!seen[q] && float.IsNaN(reference[q])) { seen[q] = true; stack.Push(q); }
                }
            }
            if (touchesEdge || members.Count > MaxHolePixels) continue;
            foreach (var p in members) result[p] = true;
            any = true;
        }
        return any ? result : null;
    }

    /// <summary>How many FWHM beyond a saturated star's input mask the products are masked (and twice that, flagged).</summary>
    private const double SmearFwhms = 2;

    /// <summary>The largest group of NaN reference pixels (inside the image) taken for a saturated core rather than a coverage gap.</summary>
    private const int MaxHolePixels = 2000;

    /// <summary>
    /// The sub-pixel peak of S_corr (0-based) by a parabola through the peak pixel and its two neighbours on each axis:
    /// S_corr is the image filtered with P_D, so it is smooth at its peaks, unlike an undersampled D, whose
    /// flux-weighted centroid is pulled towards the pixel centre (a misplaced PSF template under-measures the flux).
    /// </summary>
    private static (double X, double Y) SubPixelPeak(float[] score, int width, int height, int x, int y)
    {
        double Offset(double minus, double centre, double plus)
        {
            var curvature = minus - 2 * centre + plus;
            if (!double.IsFinite(curvature) || curvature == 0) return 0;
            return Math.Clamp(0.5 * (minus - plus) / curvature, -0.5, 0.5);
        }
        var c = score[y * width + x];
        var dx = x > 0 && x < width - 1 ? Offset(score[y * width + x - 1], c, score[y * width + x + 1]) : 0;
        var dy = y > 0 && y < height - 1 ? Offset(score[(y - 1) * width + x], c, score[(y + 1) * width + x]) : 0;
        return (x + dx, y + dy);
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

    /// <summary>
    /// The aperture correction of PSF-fit photometry (as DAOPHOT's, Stetson 1987, PASP 99, 191): the median, over the
    /// science image's bright stars, of their total flux (in a wide aperture) over their
    /// PSF-fit flux with the science PSF. A transient on D is the science PSF seen through ZOGY's filter, so a template
    /// that is not quite the stars' shape (undersampled stars are phase-averaged in the model) biases both alike.
    /// 1 with fewer than 5 stars; clamped to [0.9, 1.1].
    /// </summary>
    private static (double Correction, double Systematic) PsfFitApertureCorrection(float[] sci, float[] variance, int width, int height, PsfModel psf, IReadOnlyList<MeasuredStar> stars)
    {
        var ratios = new List<float>();
        var noise2 = new List<double>();
        foreach (var star in stars)
        {
            var fit = DifferencePhotometry.Measure(sci, width, height, psf, 1.0, star.X, star.Y);
            if (fit.PixelsUsed < psf.Size * psf.Size || !(fit.Flux > 0)) continue;
            // The total flux from the wide aperture, not the 5 px one over the stamp's light fraction (1.2 % high, see flux_match).
            var total = AperturePhotometry.Measure(sci, variance, width, height, star.X, star.Y, WideApertureRadius);
            if (total.Flags != 0 || !(total.Flux > 0)) continue;
            ratios.Add((float)(total.Flux / fit.Flux));
            noise2.Add(total.FluxError * total.FluxError / (total.Flux * total.Flux));
        }
        if (ratios.Count < 5) return (1.0, 0);
        var clipped = RobustStatistics.SigmaClip(ratios.ToArray());
        // The ratios scatter by the aperture's noise and by what the PSF fit gets wrong star by star (the pixel phase of
        // an undersampled star, which a phase-averaged model cannot follow); the latter, in quadrature, is the fit's
        // systematic fractional error. The wide aperture's noise dominates the PSF fit's, so it alone is removed.
        var fractional = clipped.Sigma / clipped.Median;
        var systematic = Math.Sqrt(Math.Max(0, fractional * fractional - RobustStatistics.Median(noise2.Select(v => (float)v).ToArray())));
        return (Math.Clamp(clipped.Median, 0.9, 1.1), double.IsFinite(systematic) ? systematic : 0);
    }
    /// <summary>
    /// Radius (pixels) of the apertures that set the flux scale and the total flux of the PSF-fit aperture correction:
    /// a Moffat beta = 2.5 PSF of FWHM 1.7-1.9 px keeps 0.3-0.4 % of its light beyond 10 px, the same in both images
    /// to 0.1 %; on isolated bench stars the 10 px and 15 px scales agree to 0.13 %.
    /// </summary>
    private const double WideApertureRadius = 10;

    /// <summary>
    /// The clipped median of science / reference flux in <see cref="WideApertureRadius"/> apertures at the stars'
    /// science positions (the images share the grid); NaN with fewer than 5 unflagged positive pairs.
    /// </summary>
    private static double WideApertureScale(float[] sci, float[] sciVariance, float[] reference, float[] refVariance, int width, int height, IReadOnlyList<MeasuredStar> stars)
    {
        var ratios = new List<float>();
        foreach (var star in stars)
        {
            var s = AperturePhotometry.Measure(sci, sciVariance, width, height, star.X, star.Y, WideApertureRadius);
            var r = AperturePhotometry.Measure(reference, refVariance, width, height, star.X, star.Y, WideApertureRadius);
            if (s.Flags != 0 || r.Flags != 0 || !(s.Flux > 0) || !(r.Flux > 0)) continue;
            ratios.Add((float)(s.Flux / r.Flux));
        }
        return ratios.Count < 5 ? double.NaN : RobustStatistics.SigmaClip(ratios.ToArray()).Median;
    }

    /// <summary>Aperture radius (pixels) of the flux-matching star photometry.</summary>
    private const double StarApertureRadius = 5;

    /// <summary>The fraction of a PSF stamp's light within <see cref="StarApertureRadius"/> of its centre, measured as on the stars.</summary>
    private static double ApertureFraction(PsfModel psf)
    {
        // A stamp padded so the aperture stays inside; PsfModel stamps sum to 1.
        var pad = (int)StarApertureRadius + 2;
        var size = psf.Size + 2 * pad;
        var image = new float[size * size];
        for (var j = 0; j < psf.Size; j++)
            for (var i = 0; i < psf.Size; i++) image[(j + pad) * size + i + pad] = (float)psf[i, j];
        var variance = new float[image.Length];
        Array.Fill(variance, 1f);
        var flux = AperturePhotometry.Measure(image, variance, size, size, psf.Centre + pad, psf.Centre + pad, StarApertureRadius).Flux;
        return flux > 0 && double.IsFinite(flux) ? flux : 1.0;
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
