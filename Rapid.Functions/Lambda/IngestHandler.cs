using Rapid.Core.Storage;
using Rapid.Functions.Ingest;

namespace Rapid.Functions.Lambda;

/// <summary>
/// Ingest λ: an SQS batch of S3 "object created" notifications of the data bucket → each L2 FITS file registered where
/// it is, from its headers read by ranged GETs (<see cref="ObjectL2FileIngest"/>): exposure and l2files row, versions and
/// vbest as the schema defines, idempotent (a re-delivered event finds the row and changes nothing). Objects of other
/// buckets and keys that are not FITS names (<see cref="L2FileIngest.IsFitsName"/>) are ignored. A message whose file is
/// refused (one line on stderr naming the object and the keyword or problem) or that fails (the database, S3) is reported
/// alone in the partial batch response, so SQS retries only it and, after its retries, moves it to the dead-letter queue,
/// whose depth raises an alarm.
/// Each registered file then starts its prompt execution (<see cref="PromptStateMachineVariable"/>: the state machine
/// {stack}-prompt) named after the row, <c>rid{rid}-v{version}</c>, with a science job for that row alone as its input
/// (<see cref="PromptInput"/>): a re-delivered event starts nothing new (Step Functions keeps an execution's name for
/// 90 days; <see cref="StepFunctionsClient"/>), and another file of the same exposure (another SCA) waits for its own
/// execution. Without the variable the files are only registered, for the nightly run.
/// </summary>
public sealed class IngestHandler
{
    /// <summary>The ARN of the prompt state machine whose executions the ingested files start (unset: register only).</summary>
    public const string PromptStateMachineVariable = "RAPID_PROMPT_STATE_MACHINE_ARN";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private readonly LambdaEnvironment _env;
    private readonly HttpClient _http;

    public IngestHandler() : this(Environment.GetEnvironmentVariable) { }

    internal IngestHandler(Func<string, string?> lookup, HttpClient? http = null)
    {
        _env = new LambdaEnvironment(lookup);
        _http = http ?? Http;
    }

    /// <summary>
    /// The prompt execution's input: a science job for exactly this image (<c>{"submission": {"type": "science", "inputs":
    /// {"rid": "…"}}}</c>), planned alone over its exposure's second, as <c>rapid watch</c> processes an image.
    /// </summary>
    public static ExecutionInput PromptInput(long rid) => new() { Submission = SubmissionInput.Science(rid) };

    /// <summary>The execution's name: one per L2 file row and version (names are 1-80 letters, digits, - and _).</summary>
    public static string ExecutionName(long rid, int version) => $"rid{rid}-v{version}";

    public Stream Handle(Stream input) => LambdaStreams.Wait(HandleAsync(input));

    private Task<Stream> HandleAsync(Stream input)
    {
        var dataBucket = Buckets.FromEnvironment(_env.Get).Data;
        ObjectL2FileIngest? ingest = null;
        return SqsBatches.HandleAsync(input, async message =>
        {
            foreach (var obj in S3EventMessages.ObjectsIn(message).Where(o => o.Bucket == dataBucket && L2FileIngest.IsFitsName(o.Key)))
            {
                ingest ??= new ObjectL2FileIngest(_env.Store, await _env.DataSourceAsync());
                var ingested = await ingest.IngestAsync(obj);
                if (ingested.Result.Problem is { } problem) throw new InvalidDataException(problem);
                var r = ingested.Result.Registered!;
                Console.WriteLine($"{obj}: rid {r.Rid} version {r.Version}{(r.Inserted ? "" : " (already registered)")}; " +
                    $"header {ingested.HeaderBytes} of {ingested.SizeBytes} bytes in {ingested.HeaderRequests} ranged GETs");
                if (_env.Get(PromptStateMachineVariable) is not { } machine) continue;
                var executionInput = System.Text.Json.JsonSerializer.Serialize(PromptInput(r.Rid), LambdaJsonContext.Default.ExecutionInput);
                var started = await StepFunctionsClient.FromEnvironment(_env.Get, _http)
                    .StartExecutionAsync(new StartExecutionRequest(machine, ExecutionName(r.Rid, r.Version), executionInput));
                Console.WriteLine($"{obj}: prompt execution {started.ExecutionArn}{(started.AlreadyStarted ? " (started before)" : " started")}");
            }
        });
    }
}
