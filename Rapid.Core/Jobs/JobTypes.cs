using System.Globalization;
using Rapid.Core.Pipelines;

namespace Rapid.Core.Jobs;

/// <summary>What an input of a job type holds, and so how it is validated.</summary>
public enum JobInputKind
{
    /// <summary>A database id (a positive integer).</summary>
    Id,
    /// <summary>A processing date, yyyyMMdd (<see cref="ProcessingDate"/>).</summary>
    ProcDate,
    /// <summary>A filter name as the ops database lists them (letters and digits, e.g. H158).</summary>
    Filter,
    /// <summary>An absolute path of a FITS file readable by the server.</summary>
    File,
    /// <summary>
    /// An object URI, <c>s3://bucket/key</c> (the AWS job API's files): its form is checked here, where it may be and that it
    /// is readable by the front that takes it (on AWS: the stack's diff-inputs prefix, read by its header).
    /// </summary>
    ObjectUri,
}

/// <summary>One input of a job type: its name as submitted, what it holds, whether it must be given, what it means.</summary>
public sealed record JobInput(string Name, JobInputKind Kind, bool Required, string Description);

/// <summary>A submission refused at submission: <see cref="Input"/> names the input (or "type") at fault.</summary>
public sealed class JobInputException(string input, string problem) : ArgumentException($"input '{input}': {problem}")
{
    public string Input { get; } = input;
}

/// <summary>
/// A validated submission: its type and its inputs, every required one present and every value well-formed. Made only by
/// <see cref="JobType.Validate"/>; its inputs are read by their declarations (<see cref="JobTypes"/>' <see cref="JobInput"/>s), and
/// reading one the type does not declare throws: a planner, the API or the CLI that disagrees with the declaration fails.
/// </summary>
public sealed class JobSubmission
{
    internal JobSubmission(JobType type, IReadOnlyDictionary<string, string> inputs) => (Type, Inputs) = (type, inputs);

    public JobType Type { get; }
    public IReadOnlyDictionary<string, string> Inputs { get; }

    /// <summary>The value given for <paramref name="input"/> (null: an optional input not given).</summary>
    public string? Text(JobInput input) =>
        Type.Inputs.Contains(input) ? Inputs.GetValueOrDefault(input.Name)
        : throw new InvalidOperationException($"a {Type.Name} job declares no input '{input.Name}' (its inputs: {string.Join(", ", Type.Inputs.Select(i => i.Name))})");

    public long Id(JobInput input) => long.Parse(Text(input) ?? throw new InvalidOperationException($"input '{input.Name}' was not given"), CultureInfo.InvariantCulture);
    public ProcessingDate? ProcDate(JobInput input) => Text(input) is { } d ? ProcessingDate.Parse(d) : null;

    /// <summary>The processing date given (by the type's processing-date input, required or optional); null when none was.</summary>
    public ProcessingDate? ProcDate() => Type.Inputs.FirstOrDefault(i => i.Kind == JobInputKind.ProcDate) is { } input ? ProcDate(input) : null;
}

/// <summary>A kind of job a user may submit, with the inputs it requires (<see cref="JobTypes"/> declares them all).</summary>
/// <param name="Ppid">The pipeline its jobs run (null: <c>diff</c>, which runs the science job on the user's own files, outside the ops database).</param>
public sealed record JobType(string Name, int? Ppid, string Description, IReadOnlyList<JobInput> Inputs)
{
    /// <summary>
    /// The submission these inputs make, or a <see cref="JobInputException"/> naming the first input that is missing,
    /// unknown to this type, or malformed: a submission is refused here, never at run time.
    /// </summary>
    public JobSubmission Validate(IReadOnlyDictionary<string, string?> given)
    {
        ArgumentNullException.ThrowIfNull(given);
        foreach (var name in given.Keys)
        {
            if (!Inputs.Any(i => i.Name == name))
                throw new JobInputException(name, $"is not an input of a {Name} job (its inputs: {string.Join(", ", Inputs.Select(i => i.Name))})");
        }
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in Inputs)
        {
            var value = given.GetValueOrDefault(input.Name)?.Trim();
            if (string.IsNullOrEmpty(value))
            {
                if (input.Required) throw new JobInputException(input.Name, $"is required for a {Name} job ({input.Description})");
                continue;
            }
            inputs[input.Name] = Check(input, value);
        }
        return new JobSubmission(this, inputs);
    }

    private static string Check(JobInput input, string value)
    {
        switch (input.Kind)
        {
            case JobInputKind.Id:
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
                    throw new JobInputException(input.Name, $"'{Shorten(value)}' is not a positive integer id");
                return id.ToString(CultureInfo.InvariantCulture);
            case JobInputKind.ProcDate:
                try { return ProcessingDate.Parse(value).ToString(); }
                catch (FormatException e) { throw new JobInputException(input.Name, e.Message); }
            case JobInputKind.Filter:
                if (value.Length > 8 || !value.All(char.IsAsciiLetterOrDigit))
                    throw new JobInputException(input.Name, $"'{Shorten(value)}' is not a filter name (letters and digits, e.g. H158)");
                return value.ToUpperInvariant();
            case JobInputKind.File:
                if (!Path.IsPathFullyQualified(value) || value.Contains('\0'))
                    throw new JobInputException(input.Name, $"'{Shorten(value)}' is not an absolute path");
                if (!System.IO.File.Exists(value)) throw new JobInputException(input.Name, $"{Shorten(value)}: no such file");
                return value;
            case JobInputKind.ObjectUri:
                if (!Storage.ObjectRef.TryParse(value, out var obj) || obj!.Key.EndsWith('/'))
                    throw new JobInputException(input.Name, $"'{Shorten(value)}' is not an object URI (s3://bucket/key)");
                return obj.ToString();
            default:
                throw new ArgumentOutOfRangeException(nameof(input), input.Kind, "unknown input kind");
        }
    }

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..80] + "...";
}

/// <summary>
/// The job types users submit (<c>rapid submit</c>, <c>rapid serve</c>'s <c>POST /api/v1/jobs</c>), declared once with the
/// inputs each requires: the CLI, the API, its OpenAPI document, the planners (<c>SubmittedJob</c>) and the executor all read
/// them from here.
/// </summary>
public static class JobTypes
{
    /// <summary>The processing date the job's rows and products are recorded under (optional: today in the operations time zone).</summary>
    public static readonly JobInput ProcDateOptional = new("procdate", JobInputKind.ProcDate, false,
        "processing date yyyyMMdd; default: today in the operations time zone");
    public static readonly JobInput ProcDateRequired = ProcDateOptional with { Required = true, Description = "processing date yyyyMMdd" };
    public static readonly JobInput Rid = new("rid", JobInputKind.Id, true, "the L2 image (l2files.rid)");
    public static readonly JobInput Field = new("field", JobInputKind.Id, true, "the sky tile (fields.field)");
    public static readonly JobInput Filter = new("filter", JobInputKind.Filter, true, "the filter, e.g. H158");
    public static readonly JobInput DiffScience = new("science", JobInputKind.File, true, "the science image");
    public static readonly JobInput DiffReferenceImage = new("reference-image", JobInputKind.File, true, "the reference image");
    public static readonly JobInput DiffReferenceCoverage = new("reference-coverage", JobInputKind.File, true, "the reference's coverage map");
    public static readonly JobInput DiffReferenceUncertainty = new("reference-uncertainty", JobInputKind.File, true, "the reference's uncertainty map");
    /// <summary>The inputs of <see cref="DiffObjects"/>: the same names and meanings, as object URIs.</summary>
    public static readonly JobInput DiffScienceObject = DiffScience with { Kind = JobInputKind.ObjectUri };
    public static readonly JobInput DiffReferenceImageObject = DiffReferenceImage with { Kind = JobInputKind.ObjectUri };
    public static readonly JobInput DiffReferenceCoverageObject = DiffReferenceCoverage with { Kind = JobInputKind.ObjectUri };
    public static readonly JobInput DiffReferenceUncertaintyObject = DiffReferenceUncertainty with { Kind = JobInputKind.ObjectUri };

    public static readonly JobType Reference = new(PipelineNames.ReferenceImage, PipelineIds.ReferenceImage,
        "A reference image of one sky tile in one filter, co-added from the L2 images observed before the processing date (a new version when one exists), registered and post-processed",
        [Field, Filter, ProcDateOptional]);

    public static readonly JobType Science = new(PipelineNames.Science, PipelineIds.Science,
        "The difference image of one registered L2 image against its tile's best reference (made first when there is none), registered and post-processed",
        [Rid, ProcDateOptional]);

    public static readonly JobType PostProcessing = new(PipelineNames.PostProcessing, PipelineIds.PostProcessing,
        "Post-processing of a processing date's registered science and reference jobs not yet post-processed (ids stamped into headers, canonical names)",
        [ProcDateRequired]);

    public static readonly JobType NightRecovery = new(PipelineNames.NightRecovery, PipelineIds.NightRecovery,
        "The night's injection-recovery job of a processing date (after its post-processing, which runs first when pending)",
        [ProcDateRequired]);

    public static readonly JobType Diff = new("diff", null,
        "A user's own science image against their own reference image (the science job on files, outside the ops database)",
        [DiffScience, DiffReferenceImage, DiffReferenceCoverage, DiffReferenceUncertainty]);

    public static IReadOnlyList<JobType> All { get; } = [Reference, Science, PostProcessing, NightRecovery, Diff];

    /// <summary>
    /// <c>diff</c> as the AWS job API takes it: the same inputs as <see cref="Diff"/>, each an object URI under the stack's
    /// diff-inputs prefix instead of a path on the server (its science job runs as one Batch job of the pipeline image).
    /// </summary>
    public static readonly JobType DiffObjects = Diff with
    {
        Inputs = [DiffScienceObject, DiffReferenceImageObject, DiffReferenceCoverageObject, DiffReferenceUncertaintyObject],
    };

    /// <summary>The job types of the AWS job API: <see cref="All"/>, with <see cref="DiffObjects"/> for <see cref="Diff"/>.</summary>
    public static IReadOnlyList<JobType> OnAws { get; } = [.. All.Select(t => t == Diff ? DiffObjects : t)];

    public static JobType Named(string? name) => Named(name, All);

    /// <summary>The type of that name among <paramref name="types"/> (<see cref="All"/>, <see cref="OnAws"/>), or a <see cref="JobInputException"/> naming "type".</summary>
    public static JobType Named(string? name, IReadOnlyList<JobType> types) =>
        types.FirstOrDefault(t => t.Name == name?.Trim())
        ?? throw new JobInputException("type", $"'{name}' is not a job type (one of {string.Join(", ", types.Select(t => t.Name))})");
}
