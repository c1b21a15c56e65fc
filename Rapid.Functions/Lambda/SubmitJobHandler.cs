using System.Text.Json;
using Dapper;
using Rapid.Core.Jobs;
using Rapid.Functions.Api;

namespace Rapid.Functions.Lambda;

/// <summary>
/// The AWS job API's <c>POST /api/v1/jobs</c> (API Gateway HTTP API, IAM authorization, payload format 2.0): the body read
/// and checked as <c>rapid serve</c> reads it (<see cref="SubmissionBody"/>, <see cref="Submissions.Check"/>: 400, 413, 415, or
/// 422 naming the input), recorded in <c>submissions</c> once what it names exists, then started as an execution of the
/// stack's state machines (<see cref="ExecutionFor"/>) and marked running with the execution's ARN (which ReadJobs follows to its run). On AWS the job types map onto the machines:
/// <list type="bullet">
/// <item><c>science</c>: the image's execution of {stack}-prompt, named as the Ingest λ names it (<c>rid{rid}-v{version}</c>), so an
/// image already started by its arrival is not started twice (the answer says <c>startedBefore</c>).</item>
/// <item><c>postprocessing</c>, <c>nightrecovery</c>: an execution of the nightly machine for the processing date
/// (<c>{procDate, tag}</c>), which post-processes the date's pending jobs and runs its recovery job; the date's run lease keeps
/// it from running beside another execution of that date.</item>
/// <item><c>reference</c> and <c>diff</c> are refused (422, input <c>type</c>): no machine plans one tile's reference alone (a science
/// job builds its tile's reference when it has none), and a diff's inputs are files on the machine that runs <c>rapid serve</c>.</item>
/// </list>
/// </summary>
public sealed class SubmitJobHandler
{
    /// <summary>The ARN of {stack}-prompt (science submissions).</summary>
    public const string PromptStateMachineVariable = IngestHandler.PromptStateMachineVariable;

    /// <summary>The ARN of the nightly machine (post-processing and night-recovery submissions).</summary>
    public const string NightlyStateMachineVariable = "RAPID_NIGHTLY_STATE_MACHINE_ARN";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private readonly LambdaEnvironment _env;
    private readonly HttpClient _http;

    public SubmitJobHandler() : this(Environment.GetEnvironmentVariable) { }

    internal SubmitJobHandler(Func<string, string?> lookup, HttpClient? http = null)
    {
        _env = new LambdaEnvironment(lookup);
        _http = http ?? Http;
    }

    public Stream Handle(Stream input) => LambdaStreams.Wait(HttpApiResponse.ServeAsync(input, SubmitAsync));

    /// <summary>Why a type is not run on AWS, or null when it is.</summary>
    public static string? RefusedOnAws(JobType type) =>
        type == JobTypes.Diff ? "'diff' is not run on AWS: its inputs are files on the machine that runs rapid serve (use rapid serve or rapid diff there)"
        : type == JobTypes.Reference ? "'reference' is not run on AWS: no state machine plans one tile's reference alone (a science job builds its tile's reference when it has none; rapid serve runs reference jobs)"
        : null;

    private async Task<HttpApiResponse> SubmitAsync(HttpApiRequest request)
    {
        if (request.Header("content-type") is not { } contentType || !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            return HttpApiResponse.Error(415, "the body must be JSON (Content-Type: application/json)");
        JobSubmission submission;
        SubmissionBody body;
        try
        {
            body = SubmissionBody.Parse(request.BodyBytes());
            // A type not run here is refused as such, before its inputs are read (a diff's files mean nothing on AWS).
            if (RefusedOnAws(JobTypes.Named(body.Type)) is { } refusal) throw new JobInputException("type", refusal);
            submission = Submissions.Check(body.Type, body.Inputs);
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
        (long Id, Rapid.Functions.Steps.SubmittedJob Job) submitted;
        try
        {
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
            var start = await ExecutionForAsync(database, id, submitted.Job, body.Tag);
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
        var submission = job.Submission;
        if (submission.Type == JobTypes.Science)
        {
            var rid = job.Rid!.Value;
            await using var conn = await database.OpenConnectionAsync();
            var version = await conn.ExecuteScalarAsync<int>(new CommandDefinition("select version from l2files where rid = @rid", new { rid }));
            return ExecutionFor(_env.Require(PromptStateMachineVariable), id, job, version, tag);
        }
        return ExecutionFor(_env.Require(NightlyStateMachineVariable), id, job, 0, tag);
    }

    /// <summary>
    /// The StartExecution request of a submission: science → its image's prompt execution (the Ingest λ's name and input, so the
    /// two find each other); a date's post-processing or recovery → a nightly execution named after the submission.
    /// </summary>
    public static StartExecutionRequest ExecutionFor(string machine, long id, Rapid.Functions.Steps.SubmittedJob job, int version, string? tag)
    {
        var submission = job.Submission;
        if (submission.Type == JobTypes.Science)
        {
            var input = JsonSerializer.Serialize(IngestHandler.PromptInput(job.DateObs!.Value), LambdaJsonContext.Default.ExecutionInput);
            return new StartExecutionRequest(machine, IngestHandler.ExecutionName(job.Rid!.Value, version), input);
        }
        var procDate = submission.ProcDate() ?? throw new InvalidOperationException($"a {submission.Type.Name} submission without a processing date");
        var nightly = JsonSerializer.Serialize(new ExecutionInput { ProcDate = procDate.ToString(), Tag = tag }, LambdaJsonContext.Default.ExecutionInput);
        return new StartExecutionRequest(machine, $"job{id}-{submission.Type.Name}-{procDate}", nightly);
    }
}
