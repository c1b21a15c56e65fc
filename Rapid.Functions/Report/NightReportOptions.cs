using System.Globalization;
using Rapid.Core.Pipelines;

namespace Rapid.Functions.Report;

/// <summary>
/// What the night report judges by and how much it shows. Defaults are the documented values; <c>rapid report</c>
/// and the Summarize λ's environment (<see cref="FromEnvironment"/>) set them.
/// </summary>
public sealed record NightReportOptions
{
    /// <summary>An image is suspect when its flux scale differs from the zero points' prediction by more than this fraction, bad beyond twice it.</summary>
    public double FluxScaleTolerance { get; init; } = 0.10;

    /// <summary>An image is suspect when the astrometric rms of its matched stars exceeds this (pixels), bad beyond twice it.</summary>
    public double MaxAstrometricRmsPixels { get; init; } = 0.2;

    /// <summary>
    /// A figure is an outlier of the night when it lies further than this many robust standard deviations (1.4826 × the
    /// median absolute deviation) from its filter's median, on the side that is worse; needs <see cref="MinImagesForOutliers"/> images.
    /// </summary>
    public double OutlierSigma { get; init; } = 5;

    public int MinImagesForOutliers { get; init; } = 8;

    /// <summary>Rows per page of the long tables (images, products).</summary>
    public int RowsPerPage { get; init; } = 100;

    /// <summary>At most this many failure groups are listed (the rest counted).</summary>
    public int MaxFailureGroups { get; init; } = 50;

    /// <summary>Lines of a failed job's log shown under its failure group.</summary>
    public int LogTailLines { get; init; } = 40;

    /// <summary>Cutouts of this many of the brightest detections, and as many of the brightest missed fakes.</summary>
    public int Cutouts { get; init; } = 6;

    /// <summary>Science jobs whose products are read for cutout candidates (those with the most detections; bounds the reads on a large night).</summary>
    public int CutoutImages { get; init; } = 8;

    /// <summary>Half-width of a cutout in pixels (the stamp is 2 × this + 1 wide).</summary>
    public int CutoutHalfWidth { get; init; } = 15;

    /// <summary>
    /// vCPUs each pipeline's job definition reserves, for the vCPU-hours the night cost; empty when unknown (embedded mode
    /// runs one process per job; on AWS the stack passes its job definitions' values as <see cref="JobVcpusVariable"/>).
    /// </summary>
    public IReadOnlyDictionary<int, int> JobVcpus { get; init; } = new Dictionary<int, int>();

    /// <summary>"12=4,15=4,17=1,18=1": vCPUs per ppid.</summary>
    public const string JobVcpusVariable = "RAPID_JOB_VCPUS";

    public static NightReportOptions FromEnvironment(Func<string, string?>? lookup = null)
    {
        lookup ??= Environment.GetEnvironmentVariable;
        return lookup(JobVcpusVariable) is { Length: > 0 } text ? new NightReportOptions { JobVcpus = ParseJobVcpus(text) } : new NightReportOptions();
    }

    /// <summary>Parses "12=4,15=4": known ppids, positive vCPUs; anything else is an error naming the variable.</summary>
    public static IReadOnlyDictionary<int, int> ParseJobVcpus(string text)
    {
        var result = new Dictionary<int, int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=', StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || !int.TryParse(kv[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid) || !PipelineIds.All.Contains(ppid)
                || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out var vcpus) || vcpus < 1)
                throw new FormatException($"{JobVcpusVariable} '{text}': expected ppid=vCPUs pairs such as 12=4,15=4,17=1,18=1 (ppids {string.Join(", ", PipelineIds.All)})");
            result[ppid] = vcpus;
        }
        return result;
    }
}
