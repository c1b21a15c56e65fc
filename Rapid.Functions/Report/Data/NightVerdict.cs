using System.Globalization;

namespace Rapid.Functions.Report.Data;

/// <summary>The night in one word: what the operator must do about it.</summary>
public enum NightVerdictLevel
{
    /// <summary>No job ran on the processing date.</summary>
    Empty,
    /// <summary>Every job succeeded and no image is suspect.</summary>
    Good,
    /// <summary>Every job ended with its products, but some are degraded (warnings) or suspect (quality).</summary>
    Degraded,
    /// <summary>Jobs failed, were lost or never closed: their images have no products until re-run.</summary>
    Failures,
}

/// <summary>The night's verdict and the figures behind it, as the report's header and the console summary lead with.</summary>
public sealed record NightVerdict(NightVerdictLevel Level, string Headline, IReadOnlyList<string> Details)
{
    public static NightVerdict Of(NightGlance glance, IReadOnlyList<ImageQuality> images)
    {
        if (glance.TotalJobs == 0) return new NightVerdict(NightVerdictLevel.Empty, "no jobs ran on this processing date", []);
        int Count(JobOutcomeClass c) => glance.Pipelines.Sum(p => p[c]);
        var (failed, lost, open, degraded) = (Count(JobOutcomeClass.Failed), Count(JobOutcomeClass.Lost), Count(JobOutcomeClass.Open), Count(JobOutcomeClass.Degraded));
        var bad = images.Count(i => i.Verdict == ImageVerdict.Bad);
        var suspect = images.Count(i => i.Verdict == ImageVerdict.Suspect);
        var noReference = images.Count(i => i.Verdict == ImageVerdict.NotRated);

        var details = new List<string>
        {
            Invariant($"{glance.DifferenceImages:N0} difference images of {glance.ScienceImages:N0} science images, {glance.ReferenceImages:N0} reference images, {glance.TotalJobs:N0} jobs"),
        };
        if (failed + lost + open > 0)
            details.Add(Invariant($"{Plural(failed + lost + open, "job")} to re-run: {failed:N0} failed, {lost:N0} lost (no manifest), {open:N0} never closed"));
        if (degraded > 0) details.Add($"{Plural(degraded, "job")} ended with warnings");
        if (bad + suspect > 0) details.Add(Invariant($"quality figures: {Plural(bad, "image")} bad, {suspect:N0} suspect"));
        if (noReference > 0) details.Add($"{Plural(noReference, "image")} had no reference image possible (exit 33)");

        var level = failed + lost + open > 0 ? NightVerdictLevel.Failures
            : degraded + bad + suspect > 0 ? NightVerdictLevel.Degraded
            : NightVerdictLevel.Good;
        var headline = level switch
        {
            NightVerdictLevel.Failures => Invariant($"{failed + lost + open:N0} of {glance.TotalJobs:N0} jobs did not finish"),
            NightVerdictLevel.Degraded => "all jobs finished; " + string.Join(", ",
                new[] { degraded > 0 ? Invariant($"{degraded:N0} with warnings") : null, bad + suspect > 0 ? $"{Plural(bad + suspect, "image")} flagged" : null }
                    .OfType<string>()),
            _ => Invariant($"all {glance.TotalJobs:N0} jobs finished, no image flagged"),
        };
        return new NightVerdict(level, headline, details);
    }

    public string Word => Level switch
    {
        NightVerdictLevel.Good => "GOOD",
        NightVerdictLevel.Degraded => "DEGRADED",
        NightVerdictLevel.Failures => "FAILURES",
        _ => "EMPTY",
    };

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>"1 image", "2 images", "1,234 jobs".</summary>
    private static string Plural(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n.ToString("N0", CultureInfo.InvariantCulture)} {noun}s";
}
