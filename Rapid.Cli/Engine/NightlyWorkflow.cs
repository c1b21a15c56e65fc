using System.Diagnostics;
using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Record;
using Rapid.Functions.Report;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Engine;

/// <summary>What a night's run did, stage by stage, and the night's summary from the ops database.</summary>
/// <param name="PlannedJobs">Jobs planned by this run (run or closed at planning); 0 means there was nothing to do.</param>
/// <param name="FailedJobs">Jobs of this run that ended in error (exit code 64 or more, lost ones included) or stayed open.</param>
public sealed record NightReport(NightStart Night, IReadOnlyList<StageReport> Stages, NightSummary Summary, int PlannedJobs, int FailedJobs,
    TimeSpan Elapsed)
{
    public ResolvedWindow Window => Night.Night;

    /// <summary>The night report the Summarize stage wrote (null when it could not: see <see cref="ReportError"/>).</summary>
    public PublishedReport? Published { get; init; }
    public string? ReportError { get; init; }

    /// <summary>The run's row (<c>runs.runid</c>): the jobs it planned are the ones whose attempts name it.</summary>
    public long? RunId { get; init; }
}

/// <summary>The stages of the nightly workflow a run takes.</summary>
[Flags]
public enum NightStages
{
    References = 1,
    Science = 2,
    PostProcessing = 4,
    NightRecovery = 8,
    /// <summary>The night report written by the Summarize stage (without it, Summarize only reads the summary).</summary>
    Report = 16,
    Night = References | Science | PostProcessing | NightRecovery | Report,
    /// <summary>Images as they land: a reference when none exists, their science jobs, post-processing.</summary>
    Prompt = References | Science | PostProcessing,
}

public sealed record StageReport(WorkflowStage Stage, TimeSpan Elapsed, string Outcome);

/// <summary>
/// The nightly workflow in embedded mode: the same steps, in the same order, as the AWS state machine.
/// The night begins by taking its processing date's run lease, bound to a database session this run keeps
/// open (so a second run of the date stops at once with the holder's name, and a killed run never blocks the
/// next); a scheduled night's window continues from the watermark. Plan steps write job lists; the local
/// executor runs them as Batch would; registration always follows a run, whatever the children did, so a
/// failed child is closed out. When the run is cancelled (SIGINT, SIGTERM) the running children are killed,
/// the stage's jobs are closed with the reason, and the lease is released before the cancellation surfaces.
/// The run is recorded (<see cref="RunRecorder"/>: its row under <see cref="Tag"/>, the executor's view of every job) and
/// failed jobs are resubmitted by <see cref="Resubmission"/> after each registration, as the state machine's retry states do.
/// </summary>
public sealed class NightlyWorkflow(
    NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, LocalBatchExecutor executor, PlanningOptions planning,
    ResolveWindow? resolver = null)
{
    private readonly ResolveWindow _resolver = resolver ?? new ResolveWindow();

    /// <summary>The processing tag the run is recorded under (DES's proctag); null: none.</summary>
    public string? Tag { get; init; }

    /// <summary>Which failed jobs run again within the run, how many attempts each gets, after what wait (none by default).</summary>
    public ResubmissionPolicy Resubmission { get; init; } = ResubmissionPolicy.None;

    /// <summary>
    /// The stages this run takes (all of them by default). A prompt run (<see cref="NightStages.Prompt"/>, images processed as
    /// they land) leaves the night's recovery job and its report to the scheduled night: its Summarize stage only reads the summary.
    /// </summary>
    public NightStages Stages { get; init; } = NightStages.Night;

    public async Task<NightReport> RunAsync(WindowRequest request, IWorkflowObserver observer, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        var stages = new List<StageReport>();
        // The lease's own session: not pooled, so closing it ends the session and with it the lease's lock.
        await using var leaseSession = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(dataSource.ConnectionString) { Pooling = false }.ConnectionString);
        await leaseSession.OpenAsync(ct);
        var night = await Stage(stages, observer, WorkflowStage.ResolveWindow, 1,
            () => new StartNight(_resolver).StartAsync(leaseSession, request, RunLeases.DescribeThisProcess("rapid run"), leaseTtl: null, ct),
            n => $"{n.Night.Window}, procdate {n.Night.ProcDate}"
                 + (n.Night.Scheduled ? n.Resumed ? " (scheduled, resuming the run that did not end)" : " (scheduled)" : "")
                 + (n.LateFrom is { } late ? $", late arrivals from {ObservationWindow.Format(late)}" : ""));
        var completed = false;
        RunRecorder? run = null;
        var (status, error) = (RunStatuses.Failed, (string?)null);
        try
        {
            run = await RunRecorder.BeginAsync(dataSource, night.Night, Tag, planning.Force, Resubmission, ct);
            await observer.RunBegunAsync(run.RunId, ct);
            var options = planning with { Scheduled = night.Night.Scheduled, RunId = run.RunId };
            var selection = night.Selection;
            var procDate = night.Night.ProcDate;
            var jids = new List<long>();
            var planned = 0;
            if (Stages.HasFlag(NightStages.References))
                planned += await RunPipeline(stages, observer, WorkflowStage.PlanReferences, jids, run, options,
                    () => new PlanReferenceImages(dataSource, store, keys, options).PlanAsync(selection, procDate, ct), ct);
            if (Stages.HasFlag(NightStages.Science))
                planned += await RunPipeline(stages, observer, WorkflowStage.PlanScience, jids, run, options,
                    () => new PlanScienceJobs(dataSource, store, keys, options).PlanAsync(selection, procDate, ct), ct);
            if (Stages.HasFlag(NightStages.PostProcessing))
                planned += await RunPipeline(stages, observer, WorkflowStage.PlanPostProcessing, jids, run, options,
                    () => new PlanPostProcessing(dataSource, store, keys, options).PlanAsync(procDate, ct), ct);
            // After post-processing: the night's recovery job reads the science jobs' tables under their stamped names.
            if (Stages.HasFlag(NightStages.NightRecovery))
                planned += await RunPipeline(stages, observer, WorkflowStage.PlanNightRecovery, jids, run, options,
                    () => new PlanNightRecovery(dataSource, store, keys, options).PlanAsync(procDate, ct), ct);

            // Summarize: the night's summary and its report, beside the night's products (as the Summarize λ does).
            var summarized = await Stage(stages, observer, WorkflowStage.Summarize, 1,
                async () => !Stages.HasFlag(NightStages.Report)
                    ? new SummarizedNight(await new SummarizeNight(dataSource).SummarizeAsync(procDate, ct: ct), null, null)
                    : await new SummarizeStep(dataSource, store, keys, new NightReportOptions()).RunAsync(procDate, ct),
                n => n.Report is { } r ? $"{r.Verdict.Word}: {r.Verdict.Headline}" : n.ReportError ?? (Stages.HasFlag(NightStages.Report) ? "" : "summary only"));
            var failed = await FailedJobsAsync(jids, ct);
            completed = true;
            status = RunStatuses.Succeeded;
            return new NightReport(night, stages, summarized.Summary, planned, failed, clock.Elapsed)
            {
                Published = summarized.Report, ReportError = summarized.ReportError, RunId = run.RunId,
            };
        }
        catch (Exception e)
        {
            (status, error) = (e is OperationCanceledException ? RunStatuses.Interrupted : RunStatuses.Failed, e.Message);
            throw;
        }
        finally
        {
            // A failure here while the run is already failing (often because the database went away, taking the lease's
            // session and so the lease with it) is not the one to report.
            if (run is not null)
            {
                try
                {
                    await run.EndAsync(status, error);
                }
                catch (Exception) when (!completed)
                {
                }
            }
            // A run that stopped half-way leaves a scheduled window unfinished (the next scheduled run resumes it).
            try
            {
                await StartNight.FinishAsync(leaseSession, night, completed, CancellationToken.None);
            }
            catch (Exception) when (!completed)
            {
            }
        }
    }

    /// <summary>
    /// Plan → run the array → register: one pipeline's three states; then, while the resubmission policy picks failed jobs
    /// of the stage, a back-off, their new attempts run and registered. Returns the jobs planned.
    /// </summary>
    private async Task<int> RunPipeline(List<StageReport> stages, IWorkflowObserver observer, WorkflowStage planStage, List<long> jids,
        RunRecorder run, PlanningOptions options, Func<Task<PlanResult>> plan, CancellationToken ct)
    {
        var planned = await Stage(stages, observer, planStage, 1, plan, p => p.ArraySize == 0 && p.ClosedAtPlanning == 0
            ? "nothing to do"
            : $"{p.ArraySize} jobs" + (p.ClosedAtPlanning > 0 ? $", {p.ClosedAtPlanning} closed at planning" : ""));
        await RunAndRegister(stages, observer, planStage + 1, jids, run, planned, "", ct);
        if (planned.JobList is not null)
        {
            var resubmission = new PlanResubmission(dataSource, store, keys, options, Resubmission);
            for (var round = 1; ; round++)
            {
                var again = await resubmission.PlanAsync(planned, round, ct);
                if (again.Plan.ArraySize == 0) break;
                await Task.Delay(TimeSpan.FromSeconds(again.WaitSeconds), ct);
                await RunAndRegister(stages, observer, planStage + 1, jids, run, again.Plan,
                    $"resubmission {round} of {again.Plan.ArraySize} after {again.WaitSeconds} s: ", ct);
            }
        }
        return planned.ArraySize + planned.ClosedAtPlanning;
    }

    /// <summary>
    /// Runs a job list's array (recording what the executor sees) and registers it, whatever the children did; registration
    /// runs even when the run was cancelled: it closes the killed and never-started jobs with their reasons.
    /// </summary>
    private async Task RunAndRegister(List<StageReport> stages, IWorkflowObserver observer, WorkflowStage runStage, List<long> jids,
        RunRecorder run, PlanResult planned, string label, CancellationToken ct)
    {
        var outcomes = await Stage(stages, observer, runStage, planned.ArraySize, async () =>
            {
                await using var states = await run.WatchAsync(executor, store, planned,
                    new Progress<ChildOutcome>(o => observer.WorkItemDone(runStage, o)), ct);
                return await executor.RunAsync(planned, states, ct);
            },
            o => label + (o.Count == 0 ? "nothing to run" : Describe(o)));
        jids.AddRange(outcomes.Select(o => o.Jid));
        await Stage(stages, observer, runStage + 1, 1, async () =>
            {
                if (planned.JobList is null) return new RegistrationReport();
                var reasons = outcomes.Where(o => o.Reason is not null).ToDictionary(o => o.Jid, o => o.Reason!);
                return await new RegisterCompletedJobs(dataSource, store, keys).RegisterJobListAsync(planned.JobList, reasons, CancellationToken.None);
            },
            r => label + $"{r.Registered} registered, {r.Lost} lost" + (r.Unchanged > 0 ? $", {r.Unchanged} already registered" : "")
                 + (r.Failures.Count > 0 ? $", {r.Failures.Count} failed to register" : "")
                 + (r.SupersededDeleted > 0 ? $", {r.SupersededDeleted} superseded originals deleted ({r.SupersededBytes / 1e6:0.0} MB)" : "")
                 + (r.SupersededKept.Count > 0 ? $", {r.SupersededKept.Count} kept: {r.SupersededKept[0].Message}" : ""));
        ct.ThrowIfCancellationRequested();
    }

    private async Task<int> FailedJobsAsync(IReadOnlyList<long> jids, CancellationToken ct)
    {
        if (jids.Count == 0) return 0;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<int>(new CommandDefinition(
            "select count(*) from jobs where jid = any(@jids) and (status = 0 or exitcode >= @error)",
            new { jids = jids.Distinct().ToArray(), error = ExitCodes.Error }, cancellationToken: ct));
    }

    private static string Describe(IReadOnlyList<ChildOutcome> outcomes) =>
        string.Join(", ", outcomes.GroupBy(o => o.ExitCode).OrderBy(g => g.Key).Select(g => $"{g.Count()} exit {g.Key}"));

    private static async Task<T> Stage<T>(List<StageReport> stages, IWorkflowObserver observer, WorkflowStage stage, int workItems,
        Func<Task<T>> action, Func<T, string> outcome)
    {
        observer.StageStarted(stage, workItems);
        var clock = Stopwatch.StartNew();
        var result = await action();
        var report = new StageReport(stage, clock.Elapsed, outcome(result));
        stages.Add(report);
        observer.StageFinished(stage, report.Elapsed, report.Outcome);
        return result;
    }
}
