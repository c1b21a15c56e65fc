using System.Text.Json;
using Dapper;
using Rapid.Core.Jobs;
using Rapid.Functions.Api;

namespace Rapid.Functions.Lambda;

/// <summary>
/// The AWS job API's <c>POST /api/v1/jobs</c> (API Gateway HTTP API, IAM authorization, payload format 2.0): the body read
/// and checked as <c>rapid serve</c> reads it (<see cref="SubmissionBody"/>, <see cref="Submissions.Check"/>: 400, 413, 415, or
/// 422 naming the input), recorded in <c>submissions</c> once what it names exists, then started as an execution of the
/// stack's state machines (<see cref="ExecutionFor"/>) and marked running with the execution's ARN (which ReadJobs follows to
/// its run). The execution's input names the submitted job (<c>{submission: {type, inputs}, tag}</c>), so its plans are
/// restricted to that job as <c>rapid serve</c>'s are (<see cref="Rapid.Functions.Steps.PlanningOptions.Submission"/>). The job
/// types map onto the machines as they map onto the embedded engine's stages:
/// <list type="bullet">
/// <item><c>science</c>: the image's execution of {stack}-prompt, named as the Ingest λ names it (<c>rid{rid}-v{version}</c>), so an
/// image already started by its arrival is not started twice (the answer says <c>startedBefore</c>).</item>
/// <item><c>reference</c>: a {stack}-prompt execution that plans the (field, filter)'s reference alone and post-processes it.</item>
/// <item><c>postprocessing</c>: a {stack}-prompt execution that post-processes the date's pending jobs (its other stages plan nothing).</item>
/// <item><c>nightrecovery</c>: a nightly execution of the date: pending post-processing, the night's recovery job and its report.</item>
/// <item><c>diff</c>: its inputs are S3 objects under the pipeline bucket's diff-inputs prefix (<see cref="JobTypes.DiffObjects"/>),
/// each read by its header and refused naming the input if outside, missing, unreadable or unusable (<see cref="DiffOnAws"/>);
/// its job config and job list are written under a job id reserved from the ops database, and a {stack}-diff execution
/// (<c>job{id}-diff</c>) runs it as one Batch job of the science job definition.</item>
/// </list>
/// The date's run lease keeps every execution of the nightly and prompt machines of one processing date to one at a time
/// (a diff takes none: it touches no survey record).
/// </summary>
public sealed class SubmitJobHandler
{
    /// <summary>The ARN of {stack}-prompt (science, reference and post-processing submissions).</summary>
    public const string PromptStateMachineVariable = IngestHandler.PromptStateMachineVariable;

    /// <summary>The ARN of the nightly machine (night-recovery submissions).</summary>
    public const string NightlyStateMachineVariable = "RAPID_NIGHTLY_STATE_MACHINE_ARN";

    /// <summary>The ARN of {stack}-diff (diff submissions).</summary>
    public const string DiffStateMachineVariable = "RAPID_DIFF_STATE_MACHINE_ARN";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private readonly LambdaEnvironment _env;
    private readonly HttpClient _http;

    public SubmitJobHandler() : this(Environment.GetEnvironmentVariable) { }

    internal SubmitJobHandler(Func<string, string?> lookup, HttpClient? http = null)
    {
        _env = new LambdaEnvironment(lookup);
        _http = http ?? Http;
    }

    /// <summary>Cancels a submission: its execution stopped (StopExecution), the submission failed with the reason.</summary>
    public const string CancelRoute = "DELETE /api/v1/jobs/{id}";

    public Stream Handle(Stream input) => LambdaStreams.Wait(HttpApiResponse.ServeAsync(input,
        request => request.RouteKey == CancelRoute ? CancelAsync(request.PathParameter("id") ?? "") : SubmitAsync(request)));

    /// <summary>
    /// <c>DELETE /api/v1/jobs/{id}</c>: a queued or running submission's execution is stopped (Step Functions terminates its
    /// Batch jobs; the execution ends ABORTED, and CloseExecution then ends its run, releases the date's lease and closes its
    /// open jobs), and the submission is failed with "cancelled through the job API". An unknown id answers 404, an ended
    /// submission 409. A science submission shares its image's execution: cancelling it stops that image's processing.
    /// </summary>
    private async Task<HttpApiResponse> CancelAsync(string id)
    {
        var submissions = new Submissions(await _env.DataSourceAsync());
        if (JobApiDocuments.ParseId(id) is not { } subid || await submissions.GetAsync(subid) is not { } row)
            return HttpApiResponse.Error(404, JobApiDocuments.Unknown(id));
        if (row.State is not ("queued" or "running"))
            return HttpApiResponse.Error(409, JobApiDocuments.Ended(subid, row.State));
        var reason = JobApiDocuments.CancelledReason;
        if (row.Execution is { } execution)
        {
            await StepFunctionsClient.FromEnvironment(_env.Get, _http).StopExecutionAsync(new StopExecutionRequest(execution, "Cancelled", $"job {subid} {reason}"));
            reason += $" (execution {execution[(execution.LastIndexOf(':') + 1)..]} stopped)";
        }
        await submissions.CancelledAsync(subid, reason);
        Console.WriteLine($"job {subid} ({row.JobType}): {reason}");
        return HttpApiResponse.Json(202, JobApiDocuments.Cancelled(subid, row.JobType, reason));
    }

    /// <summary>The variable naming the machine a type runs on: the nightly one for a night's recovery and report, else {stack}-prompt (a diff: <see cref="DiffExecutionAsync"/>).</summary>
    public static string MachineVariable(JobType type) => type == JobTypes.NightRecovery ? NightlyStateMachineVariable : PromptStateMachineVariable;

    private async Task<HttpApiResponse> SubmitAsync(HttpApiRequest request)
    {
        if (request.Header("content-type") is not { } contentType || !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            return HttpApiResponse.Error(415, "the body must be JSON (Content-Type: application/json)");
        JobSubmission submission;
        SubmissionBody body;
        try
        {
            body = SubmissionBody.Parse(request.BodyBytes());
            submission = JobTypes.Named(body.Type, JobTypes.OnAws).Validate(body.Inputs);
        }
        catch (ApiRequestException e)
        {
            return HttpApiResponse.Error(e.Status, e.Message);
        }
        catch (FormatException e)
        {
            return HttpApiResponse.Error(400, $"the body is not base64: {e.Message}");
        }
        catch (JobInputException e)
        {
            return HttpApiResponse.Json(JobApiDocuments.RefusedStatus, JobApiDocuments.Refusal(e));
        }
        var database = await _env.DataSourceAsync();
        var submissions = new Submissions(database);
        DiffOnAws.CheckedInputs? diff = null;
        (long Id, Rapid.Functions.Steps.SubmittedJob Job) submitted;
        try
        {
            // A diff's objects are read before anything is recorded: a refused one leaves no row.
            if (submission.Type == JobTypes.DiffObjects) diff = await new DiffOnAws(_env.Store, _env.Keys).CheckAsync(submission);
            submitted = await submissions.SubmitAsync(submission, body.Tag);
        }
        catch (JobInputException e)
        {
            return HttpApiResponse.Json(JobApiDocuments.RefusedStatus, JobApiDocuments.Refusal(e));
        }
        var id = submitted.Id;
        ExecutionStart started;
        try
        {
            var start = diff is not null
                ? await DiffExecutionAsync(database, submissions, id, submission, diff, body.Tag)
                : await ExecutionForAsync(database, id, submitted.Job, body.Tag);
            started = await StepFunctionsClient.FromEnvironment(_env.Get, _http).StartExecutionAsync(start);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await submissions.FinishAsync(id, false, new SubmissionResult(null, null, $"its execution could not be started: {e.Message}"));
            throw;
        }
        await submissions.StartedAsync(id, started.ExecutionArn);
        Console.WriteLine($"job {id} ({submission.Type.Name}): execution {started.ExecutionArn}{(started.AlreadyStarted ? " (started before)" : " started")}");
        var answer = JobApiDocuments.Accepted(id, submission.Type.Name, "running");
        answer["execution"] = started.ExecutionArn;
        answer["startedBefore"] = started.AlreadyStarted;
        return HttpApiResponse.Json(202, answer, new Dictionary<string, string> { ["location"] = JobApiDocuments.JobHref(id) });
    }

    /// <summary>The execution a recorded submission starts (see the class summary).</summary>
    private async Task<StartExecutionRequest> ExecutionForAsync(Npgsql.NpgsqlDataSource database, long id, Rapid.Functions.Steps.SubmittedJob job, string? tag)
    {
        var version = 0;
        if (job.Rid is { } rid)
        {
            await using var conn = await database.OpenConnectionAsync();
            version = await conn.ExecuteScalarAsync<int>(new CommandDefinition("select version from l2files where rid = @rid", new { rid }));
        }
        return ExecutionFor(_env.Require(MachineVariable(job.Submission.Type)), id, job, version, tag);
    }

    /// <summary>
    /// A checked diff's job written (<see cref="DiffOnAws.PlanAsync"/>, under a job id reserved from the ops database's job
    /// sequence, on today's processing date, with the stack's settings profile), its products' prefix recorded as the submission's outdir, and the
    /// {stack}-diff execution that runs it.
    /// </summary>
    private async Task<StartExecutionRequest> DiffExecutionAsync(Npgsql.NpgsqlDataSource database, Submissions submissions, long id,
        JobSubmission submission, DiffOnAws.CheckedInputs inputs, string? tag)
    {
        long jid;
        await using (var conn = await database.OpenConnectionAsync())
            jid = await conn.ExecuteScalarAsync<long>("select nextval(pg_get_serial_sequence('jobs', 'jid'))");
        var date = ProcessingDate.At(DateTimeOffset.UtcNow, _env.TimeZone);
        // The stack's settings profile, as the night's plans give their jobs (the defaults when the stack names none).
        var (settings, profile) = await _env.SettingsAsync();
        var planned = await new DiffOnAws(_env.Store, _env.Keys).PlanAsync(id, jid, date, inputs, settings, profile);
        await submissions.DiffPlannedAsync(id, planned.ProcDate, planned.OutDirectory);
        var input = JsonSerializer.Serialize(new DiffExecutionInput
        {
            Submission = SubmissionInput.Of(submission), Tag = tag, JobList = planned.JobList.ToString(), ProcDate = planned.ProcDate.ToString(),
        }, LambdaJsonContext.Default.DiffExecutionInput);
        return new StartExecutionRequest(_env.Require(DiffStateMachineVariable), $"job{id}-diff", input);
    }

    /// <summary>
    /// The StartExecution request of a submission on <paramref name="machine"/>: its input names the job (and the tag its run is
    /// recorded under); a science job's execution is its image's (the Ingest λ's name, so the two find each other), the others'
    /// are named after the submission.
    /// </summary>
    public static StartExecutionRequest ExecutionFor(string machine, long id, Rapid.Functions.Steps.SubmittedJob job, int version, string? tag)
    {
        var submission = job.Submission;
        var input = JsonSerializer.Serialize(new ExecutionInput { Submission = SubmissionInput.Of(submission), Tag = tag }, LambdaJsonContext.Default.ExecutionInput);
        var name = submission.Type == JobTypes.Science ? IngestHandler.ExecutionName(job.Rid!.Value, version)
            : $"job{id}-{submission.Type.Name}" + (submission.ProcDate() is { } date ? $"-{date}" : "");
        return new StartExecutionRequest(machine, name, input);
    }
}
