using System.Text.Json.Serialization;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Functions.Record;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

// The payloads of the state machine (Rapid.Cdk.Workflow.WorkflowPaths is the other side of this
// contract) and of the SQS/S3 events. Optional members with defaults are { get; set; }: see
// Rapid.Core.Contracts.RapidJsonContext for why.

/// <summary>
/// The execution input: every field optional (the README's "The state machine's input"). Unknown fields are an error, so a
/// misspelt field is not silently ignored. The fields after <see cref="Force"/> are <c>rapid run</c>'s options of the same
/// names: the processing tag, the resubmission policy and the reference selection. <see cref="Submission"/> makes the execution
/// run one submitted job alone (the prompt executions, the job API's).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ExecutionInput
{
    public string? StartDateTime { get; set; }
    public string? EndDateTime { get; set; }
    public string? ProcDate { get; set; }
    public bool? Force { get; set; }
    /// <summary>The processing tag the run is recorded under (<c>--tag</c>).</summary>
    public string? Tag { get; set; }
    /// <summary>Attempts a failed job gets within the execution, the first included (<c>--max-attempts</c>; 1: no resubmission).</summary>
    public int? MaxAttempts { get; set; }
    /// <summary>Exit codes of the jobs that are resubmitted (<c>--retry-exit-codes</c>).</summary>
    public IReadOnlyList<int>? RetryExitCodes { get; set; }
    /// <summary>Seconds before the first resubmission round; each later round waits twice as long (<c>--retry-backoff</c>).</summary>
    public double? RetryBackoff { get; set; }
    /// <summary>Re-make best reference images when better inputs exist (<c>--superior-references</c>, with the two thresholds below).</summary>
    public bool? SuperiorReferences { get; set; }
    public int? SuperiorMinFrames { get; set; }
    public double? SuperiorMinCoverageGain { get; set; }
    /// <summary>"START:END": the MJD range [start, end) reference inputs are taken from (<c>--reference-mjd</c>).</summary>
    public string? ReferenceMjd { get; set; }
    /// <summary>
    /// The one job the execution runs, planned alone; its inputs give the window and processing date, so
    /// <see cref="StartDateTime"/>, <see cref="EndDateTime"/> and <see cref="ProcDate"/> are refused beside it.
    /// </summary>
    public SubmissionInput? Submission { get; set; }
}

/// <summary>
/// The input of a {stack}-diff execution (the job API's <c>diff</c>): the submission as recorded, and the job list of its one
/// Batch job (<see cref="Rapid.Functions.Api.DiffOnAws.PlanAsync"/>), which the state machine hands the container as
/// RAPID_JOB_LIST; the processing date names the Batch job.
/// </summary>
public sealed record DiffExecutionInput
{
    public required SubmissionInput Submission { get; init; }
    public string? Tag { get; init; }
    public required string JobList { get; init; }
    public required string ProcDate { get; init; }
}

/// <summary>
/// A submitted job in an execution's input and night (<c>$.night.submission</c>): its type and inputs as
/// <see cref="JobTypes"/> declares them, e.g. <c>{"type": "science", "inputs": {"rid": 5}}</c> (values strings or numbers, read
/// as text as the job API reads them: <see cref="SubmissionInputValuesConverter"/>). ResolveWindow checks it
/// against the declarations and the ops database and takes the run's window from it (<see cref="SubmittedJob.RunWindow"/>);
/// every plan step then restricts its plan to it as the embedded engine does (<see cref="PlanningOptions.Submission"/>).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SubmissionInput
{
    public string? Type { get; set; }

    [JsonConverter(typeof(SubmissionInputValuesConverter))]
    public IReadOnlyDictionary<string, string?>? Inputs { get; set; }

    /// <summary>The submission as its type declares it; a <see cref="JobInputException"/> names the input at fault.</summary>
    public JobSubmission Validate() => JobTypes.Named(Type).Validate(Inputs ?? new Dictionary<string, string?>());

    public static SubmissionInput Of(JobSubmission submission) => new()
    {
        Type = submission.Type.Name, Inputs = submission.Inputs.ToDictionary(kv => kv.Key, kv => (string?)kv.Value),
    };

    /// <summary>A science job for one L2 image (a prompt execution of a landed file).</summary>
    public static SubmissionInput Science(long rid) => Of(JobTypes.Science.Validate(new Dictionary<string, string?>
    {
        [JobTypes.Rid.Name] = rid.ToString(System.Globalization.CultureInfo.InvariantCulture),
    }));
}

/// <summary>
/// ResolveWindow's payload as the state machine builds it (<c>{"input.$": "$", "executionId.$": "$$.Execution.Id"}</c>): the
/// execution input as given, and the execution's id from the context object, recorded as <c>runs.execution</c>. The id
/// comes from Step Functions, never from the input, so no input can attach an execution to another one's run.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ResolveWindowRequest
{
    public ExecutionInput? Input { get; set; }
    public string? ExecutionId { get; set; }
}

/// <summary>The resubmission policy of a night, as ResolveWindow resolved it (<see cref="ResubmissionPolicy"/>).</summary>
public sealed record RetryPolicyInput(IReadOnlyList<int> ExitCodes, int MaxAttempts, double BackoffSeconds, double BackoffRate)
{
    public static RetryPolicyInput Of(ResubmissionPolicy policy) =>
        new([.. policy.ExitCodes.Order()], policy.MaxAttempts, policy.BackoffSeconds, policy.BackoffRate);

    public ResubmissionPolicy ToPolicy() => new ResubmissionPolicy
    {
        ExitCodes = ExitCodes.ToHashSet(), MaxAttempts = MaxAttempts, BackoffSeconds = BackoffSeconds, BackoffRate = BackoffRate,
    }.Validated("night.retry");
}

/// <summary>How a night's plans select reference inputs (<see cref="PlanningOptions"/>' members of the same names).</summary>
public sealed record ReferenceSelectionInput(bool SuperiorReferences, int SuperiorMinFrames, double SuperiorMinCoverageGain,
    double? MjdStart = null, double? MjdEnd = null)
{
    public PlanningOptions ApplyTo(PlanningOptions options) => options with
    {
        SuperiorReferences = SuperiorReferences, SuperiorReferenceMinExtraFrames = SuperiorMinFrames,
        SuperiorReferenceMinCoverageGain = SuperiorMinCoverageGain,
        ReferenceInputsMjd = MjdStart is { } start && MjdEnd is { } end ? (start, end) : null,
    };
}

/// <summary>The resolved night, kept at <c>$.night</c>: the window [start, end) in UTC, <c>yyyy-MM-dd HH:mm:ss</c>.</summary>
/// <param name="Scheduled">A scheduled run (no window in the input): its window continues the last one (the watermark).</param>
/// <param name="LateFrom">A scheduled run: the earliest DATE-OBS of the images registered after their window (planned too).</param>
/// <param name="Lease">The token of the processing date's run lease this execution holds; Summarize releases it.</param>
public sealed record NightInput(string StartDateTime, string EndDateTime, string ProcDate, bool Force = false,
    bool Scheduled = false, string? LateFrom = null, string? Lease = null)
{
    /// <summary>The execution's row in <c>runs</c> (its plans' attempts are recorded under it; Summarize or ReleaseNight ends it).</summary>
    public long? RunId { get; set; }
    public string? Tag { get; set; }
    /// <summary>The resubmission policy the retry states follow; null: the PlanRetry function's environment (its defaults).</summary>
    public RetryPolicyInput? Retry { get; set; }
    /// <summary>The reference selection of the plans; null: the defaults.</summary>
    public ReferenceSelectionInput? References { get; set; }
    /// <summary>The one submitted job the plans are restricted to (checked by ResolveWindow); null: the window's whole night.</summary>
    public SubmissionInput? Submission { get; set; }
}

/// <summary>What a Catch gives the failure path: the failed state's error name and cause.</summary>
public sealed record TaskFailure(string? Error, string? Cause);

/// <summary>ReleaseNight's input: the night (<c>$.night</c>) and why the execution fails (<c>$.failure</c>).</summary>
public sealed record ReleaseInput(NightInput Night, TaskFailure? Failure = null);

/// <summary>ReleaseNight's result: whether there was a lease to release.</summary>
public sealed record ReleaseOutput(bool Released);

/// <summary>What the Batch part of a stage did: <c>{failed, error?}</c>, <c>{skipped}</c> or <c>{chunks: [{failed, error?}]}</c>.</summary>
public sealed record RunOutcome
{
    public bool Failed { get; set; }
    public string? Error { get; set; }
    public bool Skipped { get; set; }
    public IReadOnlyList<RunOutcome>? Chunks { get; set; }

    /// <summary>The run, or any of its chunks, failed.</summary>
    public bool AnyFailed => Failed || (Chunks?.Any(c => c.Failed) ?? false);
}

public sealed record RegisterInput(NightInput Night, PlanResult Plan, RunOutcome Run);

/// <summary>PlanRetry's input: the night, the stage's plan and the number of the stage's previous resubmission round (0 before the first).</summary>
public sealed record RetryInput(NightInput Night, PlanResult Plan, int Previous = 0);

/// <summary>Register's small result, kept at <c>$.{stage}.registered</c>; at most a few failure messages.</summary>
public sealed record RegisterOutput(
    int Registered, int Lost, int ReferenceImages, int DifferenceImages, int StampedProducts,
    int Failed, IReadOnlyList<RegistrationFailure> FailureSamples, bool RunFailed)
{
    /// <summary>Manifests already registered exactly as they were (nothing changed) and manifests of an earlier run (not registered).</summary>
    public int Unchanged { get; init; }
    public int Stale { get; init; }
    /// <summary>Jobs closed with exit 71: their manifest failed validation (also counted in <see cref="Failed"/>).</summary>
    public int Rejected { get; init; }
    /// <summary>Files superseded by registered stamped copies, deleted, and their bytes; superseded files kept (a copy failed verification).</summary>
    public int SupersededDeleted { get; init; }
    public long SupersededBytes { get; init; }
    public int SupersededKept { get; init; }
}

/// <summary>One stage as Summarize sees it (<c>$.references</c>, …).</summary>
public sealed record StageState(PlanResult? Plan = null, RunOutcome? Run = null, RegisterOutput? Registered = null);

/// <param name="Report">False in the prompt (per-image) workflow: the summary without the night's report.</param>
public sealed record SummarizeInput(NightInput Night, StageState? References = null, StageState? Science = null, StageState? PostProcessing = null,
    StageState? NightRecovery = null, bool Report = true);

/// <summary>The night's summary, published to SNS as JSON (at most <see cref="SummarizeHandler.MaxFailuresListed"/> failures listed).</summary>
public sealed record NightMessage
{
    public required string ProcDate { get; init; }
    public required string StartDateTime { get; init; }
    public required string EndDateTime { get; init; }
    public int TotalJobs { get; init; }
    public int ReferenceImages { get; init; }
    public int DifferenceImages { get; init; }
    /// <summary>Products of the night's jobs withdrawn because the job's last run made none.</summary>
    public int WithdrawnProducts { get; init; }
    /// <summary>Bytes of unstamped originals the night's post-processing superseded and deleted.</summary>
    public long SupersededBytesDeleted { get; init; }
    public long SourcesFound { get; init; }
    public IReadOnlyList<JobCount> Jobs { get; init; } = [];
    public int FailureCount { get; init; }
    public IReadOnlyList<JobFailure> Failures { get; init; } = [];
    /// <summary>Jobs with a warning of each kind, per pipeline.</summary>
    public IReadOnlyList<WarningCount> Warnings { get; init; } = [];
    public IReadOnlyList<PipelineTiming> Elapsed { get; init; } = [];
    /// <summary>Completeness per filter and kind (the bins stay in the ops database: SNS messages are small).</summary>
    public IReadOnlyList<RecoverySummary> Recovery { get; init; } = [];
    /// <summary>The night's verdict (GOOD, DEGRADED, FAILURES, EMPTY) and its one line, as the report's header says them.</summary>
    public string? Verdict { get; init; }
    public string? Headline { get; init; }
    /// <summary>The night report, <c>s3://{products bucket}/{procdate}/rapid_night_report_{procdate}.html</c>.</summary>
    public string? Report { get; init; }
    /// <summary>Why the report could not be made (the summary above still stands).</summary>
    public string? ReportError { get; init; }
    public RegisterOutput? References { get; init; }
    public RegisterOutput? Science { get; init; }
    public RegisterOutput? PostProcessing { get; init; }
    public RegisterOutput? NightRecovery { get; init; }
}

/// <summary>An SQS event (only what registration reads).</summary>
public sealed record SqsEvent([property: JsonPropertyName("Records")] IReadOnlyList<SqsMessage> Records);

public sealed record SqsMessage(string MessageId, string Body);

/// <summary>An S3 event notification, the body of each SQS message; an s3:TestEvent has no Records.</summary>
public sealed record S3Event
{
    [JsonPropertyName("Records")]
    public IReadOnlyList<S3EventRecord>? Records { get; set; }
}

public sealed record S3EventRecord(S3Entity S3);

public sealed record S3Entity(S3Bucket Bucket, [property: JsonPropertyName("object")] S3Object Object);

public sealed record S3Bucket(string Name);

/// <summary><see cref="Key"/> is URL-encoded as S3 sends it (spaces as '+').</summary>
public sealed record S3Object(string Key);

/// <summary>The SQS partial batch response: only the failed messages return to the queue.</summary>
public sealed record SqsBatchResponse(IReadOnlyList<SqsBatchItemFailure> BatchItemFailures);

public sealed record SqsBatchItemFailure(string ItemIdentifier);

/// <summary>Source-generated JSON for the handlers (no reflection: fast cold starts).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    Converters = [typeof(ObjectRefJsonConverter)])]
[JsonSerializable(typeof(ExecutionInput))]
[JsonSerializable(typeof(DiffExecutionInput))]
[JsonSerializable(typeof(ResolveWindowRequest))]
[JsonSerializable(typeof(NightInput))]
[JsonSerializable(typeof(ReleaseInput))]
[JsonSerializable(typeof(ReleaseOutput))]
[JsonSerializable(typeof(PlanResult))]
[JsonSerializable(typeof(RegisterInput))]
[JsonSerializable(typeof(RegisterOutput))]
[JsonSerializable(typeof(RetryInput))]
[JsonSerializable(typeof(ResubmissionRound))]
[JsonSerializable(typeof(SummarizeInput))]
[JsonSerializable(typeof(NightMessage))]
[JsonSerializable(typeof(SqsEvent))]
[JsonSerializable(typeof(S3Event))]
[JsonSerializable(typeof(SqsBatchResponse))]
[JsonSerializable(typeof(StartExecutionRequest))]
[JsonSerializable(typeof(StartExecutionResponse))]
[JsonSerializable(typeof(StopExecutionRequest))]
[JsonSerializable(typeof(AwsJsonError))]
[JsonSerializable(typeof(ExecutionStatusChangeEvent))]
[JsonSerializable(typeof(HttpApiRequest))]
[JsonSerializable(typeof(HttpApiResponse))]
[JsonSerializable(typeof(CustomResourceRequest))]
[JsonSerializable(typeof(CustomResourceResponse))]
public sealed partial class LambdaJsonContext : JsonSerializerContext;
