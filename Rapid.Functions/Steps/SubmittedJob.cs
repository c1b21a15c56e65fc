using Dapper;
using Npgsql;
using Rapid.Core.Jobs;

namespace Rapid.Functions.Steps;

/// <summary>
/// A submitted job (<see cref="JobSubmission"/>, validated against <see cref="JobTypes"/>) as the planners take it: the one
/// L2 image (<c>science</c>) or (field, filter) (<c>reference</c>) its declared inputs name, resolved against the ops
/// database. Given as <see cref="PlanningOptions.Submission"/>, it restricts a run's plans to that job: the science planner
/// plans that image only (not the other images of its exposure's second), the reference planner that image's tile (a
/// reference when it has none) or the submitted (field, filter) (a new version when one exists), and post-processing the
/// jobs the run made. <c>postprocessing</c> and <c>nightrecovery</c> name a processing date only and plan the date's whole stage.
/// </summary>
/// <param name="Rid">The L2 image a science submission names.</param>
/// <param name="Pair">The (field, filter id) a reference submission names, or the science image's.</param>
/// <param name="DateObs">The science image's observation time (UTC).</param>
public sealed record SubmittedJob(JobSubmission Submission, long? Rid, (long Field, short Fid)? Pair, DateTime? DateObs)
{
    /// <summary>A science submission: the planners plan its image only.</summary>
    public bool IsScience => Submission.Type == JobTypes.Science;

    /// <summary>A reference submission: the reference planner plans its (field, filter), even when it has a best reference.</summary>
    public bool IsReference => Submission.Type == JobTypes.Reference;

    /// <summary>
    /// The submission's job resolved from its declared inputs, or a <see cref="JobInputException"/> naming the input that
    /// names nothing in the ops database (an image not registered, a tile or filter it does not know).
    /// </summary>
    public static async Task<SubmittedJob> ResolveAsync(NpgsqlConnection conn, JobSubmission submission, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        if (submission.Type == JobTypes.Science)
        {
            var rid = submission.Id(JobTypes.Rid);
            var image = await conn.QuerySingleOrDefaultAsync<(long Field, short Fid, DateTime DateObs)?>(new CommandDefinition(
                "select field, fid, dateobs from l2files where rid = @rid", new { rid }, cancellationToken: ct))
                ?? throw new JobInputException(JobTypes.Rid.Name, $"L2 image {rid} is not registered (rapid ingest registers files)");
            return new SubmittedJob(submission, rid, (image.Field, image.Fid), DateTime.SpecifyKind(image.DateObs, DateTimeKind.Utc));
        }
        if (submission.Type == JobTypes.Reference)
        {
            var field = submission.Id(JobTypes.Field);
            var filter = submission.Text(JobTypes.Filter)!;
            if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                    "select exists (select 1 from fields where field = @field)", new { field }, cancellationToken: ct)))
                throw new JobInputException(JobTypes.Field.Name, $"tile {field} is not a field of the ops database (fields.field)");
            var filters = (await conn.QueryAsync<(short Fid, string Filter)>(new CommandDefinition(
                "select fid, filter from filters order by fid", cancellationToken: ct))).ToList();
            var fid = filters.FirstOrDefault(f => string.Equals(f.Filter, filter, StringComparison.OrdinalIgnoreCase)).Fid;
            if (fid == 0)
                throw new JobInputException(JobTypes.Filter.Name, $"'{filter}' is not a filter of the ops database (one of {string.Join(", ", filters.Select(f => f.Filter))})");
            return new SubmittedJob(submission, null, (field, fid), null);
        }
        return new SubmittedJob(submission, null, null, null);
    }

    /// <summary>
    /// The window and processing date a run of this job plans in, the same for both drivers (the embedded engine and the state
    /// machines' ResolveWindow): for a science image its exposure, its DATE-OBS to the second (the other images of that second
    /// are left out by the planners, not by the window); for the other types the processing date's first second, which
    /// selects no image (they plan by date, or by the submitted field and filter, a reference co-adding the images observed
    /// before the date). The processing date is the submission's, else <paramref name="today"/>.
    /// </summary>
    public WindowRequest RunWindow(ProcessingDate today)
    {
        var date = Submission.ProcDate() ?? today;
        var start = DateObs is { } dateObs && IsScience
            ? new DateTime(dateObs.Ticks - dateObs.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc)
            : date.Date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        return new WindowRequest(ObservationWindow.Format(start), ObservationWindow.Format(start.AddSeconds(1)), date.ToString());
    }

    /// <summary>The images a science plan is restricted to: null for none (the window's), none for a submission that is not science.</summary>
    internal static long[]? ImagesOf(SubmittedJob? job) => job is null ? null : job.Rid is { } rid && job.IsScience ? [rid] : [];

    /// <summary>Whether post-processing takes only the jobs its run made (a submitted science or reference job's own).</summary>
    internal static bool OwnJobsOnly(SubmittedJob? job) => job is { IsScience: true } or { IsReference: true };
}
