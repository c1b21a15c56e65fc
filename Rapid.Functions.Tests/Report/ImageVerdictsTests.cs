using Rapid.Functions.Report;
using Rapid.Functions.Report.Data;

namespace Rapid.Functions.Tests.Report;

public sealed class ImageVerdictsTests
{
    private static readonly NightReportOptions Options = new();

    private static ImageQuality Image(long jid, string filter = "H158", double scale = 100, double predicted = 100, double fwhm = 1.8,
        double astrometry = 0.04, double? mag50 = 25.0, JobOutcomeClass outcome = JobOutcomeClass.Succeeded, int? exit = 0) => new()
    {
        Jid = jid, Rid = jid, Filter = filter, Outcome = outcome, ExitCode = exit, FluxScale = scale, PredictedFluxScale = predicted,
        FwhmScience = fwhm + 0.001 * (jid % 7), AstrometricRms = astrometry, Mag50 = mag50 is double m ? m + 0.01 * (jid % 5) : null,
        FakesInjected = 50, FakesFound = 40 + (int)(jid % 3), Unexplained = 3 + (int)(jid % 4), AreaDeg2 = 0.0164,
    };

    [Fact]
    public void An_image_whose_flux_scale_is_far_from_the_zero_points_prediction_is_bad_and_a_little_off_is_suspect()
    {
        var judged = ImageVerdicts.Judge([Image(1, scale: 400), Image(2, scale: 115), Image(3, scale: 105)], Options);
        Assert.Equal([ImageVerdict.Bad, ImageVerdict.Suspect, ImageVerdict.Good], judged.Select(i => i.Verdict));
        Assert.Contains("4.000 × the zero points' prediction", judged[0].VerdictReasons[0]);
    }

    [Fact]
    public void Outliers_are_flagged_per_filter_on_the_worse_side_only()
    {
        var images = Enumerable.Range(1, 12).Select(i => Image(i)).ToList();
        images.Add(Image(13, fwhm: 3.0));                 // much wider PSF: worse
        images.Add(Image(14, fwhm: 1.0));                 // much sharper: not a problem
        images.Add(Image(15, mag50: 23.5));               // shallow: worse
        images.Add(Image(16, filter: "F184", fwhm: 3.0)); // alone in its filter: no outlier test
        var judged = ImageVerdicts.Judge(images, Options).ToDictionary(i => i.Jid);

        Assert.Equal([QualityFigure.FwhmScience], judged[13].Outliers);
        Assert.Equal(ImageVerdict.Suspect, judged[13].Verdict);
        Assert.Empty(judged[14].Outliers);
        Assert.Equal(ImageVerdict.Good, judged[14].Verdict);
        Assert.Equal([QualityFigure.Mag50], judged[15].Outliers);
        Assert.Empty(judged[16].Outliers);
        Assert.All(Enumerable.Range(1, 12), j => Assert.Equal(ImageVerdict.Good, judged[j].Verdict));
    }

    [Fact]
    public void Failed_jobs_are_bad_degraded_ones_suspect_and_no_reference_is_not_rated()
    {
        var judged = ImageVerdicts.Judge([
            Image(1, outcome: JobOutcomeClass.Failed, exit: 65) with { FluxScale = null },
            Image(2, outcome: JobOutcomeClass.Degraded, exit: 32) with { Warnings = ["psf: too few stars"] },
            Image(3, outcome: JobOutcomeClass.NoReference, exit: 33) with { FluxScale = null },
            Image(4, outcome: JobOutcomeClass.Open, exit: null) with { FluxScale = null }], Options);
        Assert.Equal([ImageVerdict.Bad, ImageVerdict.Suspect, ImageVerdict.NotRated, ImageVerdict.Bad], judged.Select(i => i.Verdict));
        Assert.Contains("psf: too few stars", judged[1].VerdictReasons[0]);
    }

    [Fact]
    public void The_night_verdict_says_failures_before_degraded_before_good()
    {
        static NightGlance Glance(params (JobOutcomeClass Outcome, int Count)[] counts) => new(1, 1, 1, 10,
            [new PipelineOutcomes(15, counts.ToDictionary(c => c.Outcome, c => c.Count))], 0, 0, null, null, 0, null, null, null, []);
        var good = ImageVerdicts.Judge([Image(1)], Options);
        var suspect = ImageVerdicts.Judge([Image(1, scale: 115)], Options);

        Assert.Equal(NightVerdictLevel.Good, NightVerdict.Of(Glance((JobOutcomeClass.Succeeded, 4)), good).Level);
        Assert.Equal(NightVerdictLevel.Degraded, NightVerdict.Of(Glance((JobOutcomeClass.Succeeded, 4)), suspect).Level);
        Assert.Equal(NightVerdictLevel.Degraded, NightVerdict.Of(Glance((JobOutcomeClass.Degraded, 1)), good).Level);
        var failures = NightVerdict.Of(Glance((JobOutcomeClass.Succeeded, 3), (JobOutcomeClass.Lost, 1)), suspect);
        Assert.Equal(NightVerdictLevel.Failures, failures.Level);
        Assert.Equal("1 of 4 jobs did not finish", failures.Headline);
        Assert.Equal("1 job to re-run: 0 failed, 1 lost (no manifest), 0 never closed", failures.Details[1]);
        Assert.Equal("all jobs finished; 1 image flagged", NightVerdict.Of(Glance((JobOutcomeClass.Succeeded, 4)), suspect).Headline);
        Assert.Equal("all jobs finished; 1 with warnings", NightVerdict.Of(Glance((JobOutcomeClass.Degraded, 1)), good).Headline);
        Assert.Equal(NightVerdictLevel.Empty, NightVerdict.Of(Glance(), []).Level);
    }
}
