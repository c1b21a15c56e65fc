using System.Globalization;
using Rapid.Core.Jobs;
using Rapid.Functions.Record;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// ResolveWindow λ: the execution input (all optional) → the resolved night at <c>$.night</c>. It begins the
/// night in the ops database (<see cref="StartNight"/>): a scheduled run's window continues from the watermark,
/// and the execution takes the processing date's run lease (released by Summarize, or by ReleaseNight when the
/// execution fails), so a second execution of the same date fails here, before it plans anything. The execution's
/// row in <c>runs</c> is begun here too (executor "aws", the execution's id, its tag and policy), and the night carries the resubmission
/// policy and the reference selection the later states follow. Every field is checked before the database is reached. An
/// input naming one submitted job (<see cref="ExecutionInput.Submission"/>: the prompt executions, the job API's) is checked
/// against its type's declared inputs and then against the ops database, its window taken from it
/// (<see cref="SubmittedJob.RunWindow"/>), and it is passed on at <c>$.night.submission</c> for the plan steps.
/// </summary>
public sealed class ResolveWindowHandler
{
    /// <summary>Who holds a lease taken here, as other runs' messages name it.</summary>
    public const string LeaseHolder = "a rapid-nightly state machine execution";

    private readonly LambdaEnvironment _env;
    private readonly TimeProvider _clock;

    public ResolveWindowHandler() : this(Environment.GetEnvironmentVariable) { }

    internal ResolveWindowHandler(Func<string, string?> lookup, TimeProvider? clock = null)
    {
        _env = new LambdaEnvironment(lookup);
        _clock = clock ?? TimeProvider.System;
    }

    public Stream Handle(Stream input) => LambdaStreams.Wait(HandleAsync(input));

    private async Task<Stream> HandleAsync(Stream input)
    {
        var payload = LambdaStreams.Read(input, LambdaJsonContext.Default.ResolveWindowRequest, "ResolveWindow payload");
        var request = payload.Input ?? throw new InvalidDataException("ResolveWindow payload: field input (the execution input) is missing");
        var execution = ExecutionId(payload.ExecutionId);
        var resolver = new ResolveWindow(_clock, _env.TimeZone);
        // Bad input is named before the database is reached.
        var submission = Submission(request);
        var window = new WindowRequest(request.StartDateTime, request.EndDateTime, request.ProcDate);
        if (submission is null) resolver.Resolve(window);
        var tag = Runs.CheckTag(request.Tag, "tag");
        var policy = RetryPolicy(request, ResubmissionPolicy.FromEnvironment(_env.Get));
        var references = ReferenceSelection(request);
        var force = request.Force ?? false;

        var dataSource = await _env.DataSourceAsync();
        await using var conn = await dataSource.OpenConnectionAsync();
        if (submission is not null)
        {
            // A submitted job plans in the window its inputs give, as the embedded engine runs it.
            SubmittedJob job;
            try { job = await SubmittedJob.ResolveAsync(conn, submission); }
            catch (JobInputException e) { throw new ArgumentException($"submission: {e.Message}", e); }
            window = job.RunWindow(ProcessingDate.At(_clock.GetUtcNow(), _env.TimeZone));
        }
        var night = await new StartNight(resolver).StartAsync(conn, window, LeaseHolder, _env.RunLeaseDuration);
        long runId;
        try
        {
            runId = await Runs.BeginAsync(conn, new RunStart(night.Night.ProcDate, tag, night.Night.Window, Runs.Aws,
                Execution: execution, OptionsJson: Runs.OptionsJson(force, policy), Lease: night.Lease.Token));
        }
        catch
        {
            // No execution goes on without its run: give the date back at once rather than when the lease expires.
            await StartNight.FinishAsync(conn, night, completed: false);
            throw;
        }
        var output = new NightInput(
            ObservationWindow.Format(night.Night.Window.Start), ObservationWindow.Format(night.Night.Window.End),
            night.Night.ProcDate.ToString(), force, night.Night.Scheduled,
            night.LateFrom is { } late ? ObservationWindow.Format(late) : null, night.Lease.Token.ToString())
        {
            RunId = runId, Tag = tag, Retry = RetryPolicyInput.Of(policy), References = references,
            Submission = submission is null ? null : SubmissionInput.Of(submission),
        };
        return LambdaStreams.Write(output, LambdaJsonContext.Default.NightInput);
    }

    /// <summary>
    /// The execution's id as the context object gives it (an execution ARN, at most 2048 characters as Step Functions
    /// bounds ARNs); missing or malformed is bad input: a run of the state machine is always recorded with its execution.
    /// </summary>
    internal static string ExecutionId(string? id)
    {
        if (string.IsNullOrEmpty(id))
            throw new InvalidDataException("ResolveWindow payload: field executionId is missing (the state machine passes $$.Execution.Id)");
        if (id.Length > 2048 || !id.StartsWith("arn:", StringComparison.Ordinal) || !id.Contains(":execution:", StringComparison.Ordinal))
            throw new InvalidDataException($"ResolveWindow payload: executionId '{(id.Length > 80 ? id[..80] + "..." : id)}' is not a state machine execution ARN");
        return id;
    }

    /// <summary>
    /// The input's submitted job, checked against its type's declared inputs (a bad one named as <c>submission: input '…'</c>), or
    /// null. Its inputs give the window and processing date, so the input's own are refused beside it, and a <c>diff</c> (files
    /// on the machine that runs <c>rapid serve</c>) is not run by a state machine.
    /// </summary>
    internal static JobSubmission? Submission(ExecutionInput request)
    {
        if (request.Submission is not { } given) return null;
        foreach (var (name, value) in new[] { ("startDateTime", request.StartDateTime), ("endDateTime", request.EndDateTime), ("procDate", request.ProcDate) })
            if (!string.IsNullOrWhiteSpace(value))
                throw new ArgumentException($"{name} is given with a submission: a submitted job's inputs give its window and processing date (inputs.procdate)");
        try
        {
            // The type first: a diff's inputs (files) mean nothing here.
            if (JobTypes.Named(given.Type) == JobTypes.Diff)
                throw new ArgumentException("submission: a diff job is not run by the nightly or prompt machine (the job API starts it on {stack}-diff)");
            return given.Validate();
        }
        catch (JobInputException e) { throw new ArgumentException($"submission: {e.Message}", e); }
    }

    /// <summary>The input's policy fields over the function's defaults; a bad value is named by its field.</summary>
    internal static ResubmissionPolicy RetryPolicy(ExecutionInput request, ResubmissionPolicy defaults)
    {
        var policy = defaults;
        if (request.MaxAttempts is { } attempts)
            policy = policy with { MaxAttempts = attempts is >= 1 and <= 10 ? attempts : throw new ArgumentException($"maxAttempts {attempts}: must be 1-10") };
        if (request.RetryBackoff is { } backoff)
            policy = policy with
            {
                BackoffSeconds = double.IsFinite(backoff) && backoff is >= 0 and <= 3600 ? backoff
                    : throw new ArgumentException($"retryBackoff {backoff.ToString(CultureInfo.InvariantCulture)}: must be 0-3600 seconds"),
            };
        if (request.RetryExitCodes is { } codes) policy = policy with { ExitCodes = codes.ToHashSet() };
        return policy.Validated("retryExitCodes");
    }

    /// <summary>The input's reference selection (null when it asks for nothing but the defaults); a bad value is named by its field.</summary>
    internal static ReferenceSelectionInput? ReferenceSelection(ExecutionInput request)
    {
        if (request is { SuperiorReferences: null, SuperiorMinFrames: null, SuperiorMinCoverageGain: null, ReferenceMjd: null }) return null;
        var defaults = new PlanningOptions();
        var minFrames = request.SuperiorMinFrames ?? defaults.SuperiorReferenceMinExtraFrames;
        if (minFrames < 1) throw new ArgumentException($"superiorMinFrames {minFrames}: must be at least 1");
        var minGain = request.SuperiorMinCoverageGain ?? defaults.SuperiorReferenceMinCoverageGain;
        if (!(minGain > 0) || !double.IsFinite(minGain))
            throw new ArgumentException($"superiorMinCoverageGain {minGain.ToString(CultureInfo.InvariantCulture)}: must be a number above 0");
        (double Start, double End)? mjd = request.ReferenceMjd is { } text ? PlanningOptions.ParseMjdRange(text, "referenceMjd") : null;
        return new ReferenceSelectionInput(request.SuperiorReferences ?? false, minFrames, minGain, mjd?.Start, mjd?.End);
    }
}
