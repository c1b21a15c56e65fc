using System.Diagnostics;
using Dapper;
using Rapid.Cli.Embedded;
using Rapid.Core.Jobs;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Engine;

/// <summary>What processing one landed image gave: its science job (null when none was planned) and its difference image.</summary>
/// <param name="DiffImage">The registered best difference image (after post-processing, its stamped name); null when none.</param>
public sealed record PromptOutcome(long Rid, ProcessingDate ProcDate, long? Jid, int? ExitCode, string? Reason, string? DiffImage, TimeSpan Elapsed,
    NightReport Run);

/// <summary>
/// Processes a registered L2 image as soon as it lands (<c>rapid watch</c>, <c>rapid bench prompt</c>): the nightly
/// workflow's own steps (<see cref="NightlyWorkflow"/> with <see cref="NightStages.Prompt"/>) over an explicit window of
/// the image's exposure (its DATE-OBS to the second), so a reference is made first when none exists and enough earlier
/// images do, then the science job, its registration and post-processing, under the processing date's run lease. The
/// science job planned here takes the image out of <c>l2pending</c>, so the scheduled night does not process it again.
/// Other L2 files of the same exposure (other SCAs) that are registered are processed in the same run.
/// </summary>
public sealed class PromptProcessing(EmbeddedWorkflow workflow)
{
    /// <summary>Whether the image already has a registered difference image (on any processing date).</summary>
    public async Task<bool> ProcessedAsync(long rid, CancellationToken ct = default)
    {
        await using var conn = await workflow.Database.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from diffimages where rid = @rid and status > 0)", new { rid }, cancellationToken: ct));
    }

    public async Task<PromptOutcome> ProcessAsync(long rid, string? procDate, IWorkflowObserver? observer = null, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        DateTime dateObs;
        await using (var conn = await workflow.Database.OpenConnectionAsync(ct))
        {
            dateObs = await conn.QuerySingleOrDefaultAsync<DateTime?>(new CommandDefinition("select dateobs from l2files where rid = @rid",
                new { rid }, cancellationToken: ct)) ?? throw new ArgumentException($"L2 file rid {rid} is not registered");
        }
        var start = new DateTime(dateObs.Ticks - dateObs.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        var request = new WindowRequest(ObservationWindow.Format(start), ObservationWindow.Format(start.AddSeconds(1)), procDate);
        var run = await workflow.Create(stages: NightStages.Prompt).RunAsync(request, observer ?? SilentObserver.Instance, ct);
        var date = run.Window.ProcDate;
        await using (var conn = await workflow.Database.OpenConnectionAsync(ct))
        {
            var job = await conn.QuerySingleOrDefaultAsync<(long Jid, int? ExitCode, string? Reason, string? DiffImage)?>(new CommandDefinition("""
                select j.jid, j.exitcode, j.reason,
                       (select d.filename from diffimages d where d.jid = j.jid and d.status > 0 and d.vbest > 0) as diffimage
                from jobs j where j.ppid = 15 and j.procdate = @procdate and j.rid = @rid
                """, new { procdate = date.Date, rid }, cancellationToken: ct));
            return new PromptOutcome(rid, date, job?.Jid, job?.ExitCode, job?.Reason, job?.DiffImage, clock.Elapsed, run);
        }
    }
}
