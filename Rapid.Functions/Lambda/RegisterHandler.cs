using Rapid.Core.Contracts;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// Register λ: <c>{night, plan, run}</c> → registers every job of the plan's job list, manifest or
/// not (a job without one is closed out as lost), and returns small counts. Runs just the same when
/// the Batch state failed: that is why every Batch state catches into it.
/// </summary>
public sealed class RegisterHandler
{
    /// <summary>Failure messages kept in the result; the state stays small, the rest are in the database.</summary>
    public const int MaxFailureSamples = 5;

    private readonly LambdaEnvironment _env;

    public RegisterHandler() : this(Environment.GetEnvironmentVariable) { }

    internal RegisterHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(HandleAsync(input));

    private async Task<Stream> HandleAsync(Stream input)
    {
        var request = LambdaStreams.Read(input, LambdaJsonContext.Default.RegisterInput, "register input");
        // The full job list covers every chunk; the chunks' lists are only read when there is none.
        IReadOnlyList<ObjectRef> lists = request.Plan.JobList is { } whole ? [whole]
            : request.Plan.Chunks?.Select(c => c.JobList).ToList() ?? [];
        var register = new RegisterCompletedJobs(await _env.DataSourceAsync(), _env.Store, _env.Keys);
        var reasons = await LostReasonsAsync(request.Plan, request.Run);
        var reports = new List<RegistrationReport>();
        foreach (var list in lists)
            reports.Add(await register.RegisterJobListAsync(list, reasons));

        var failures = reports.SelectMany(r => r.Failures).ToList();
        foreach (var f in failures)
            Console.Error.WriteLine($"jid {f.Jid}: not registered: {f.Message}");
        var output = new RegisterOutput(
            reports.Sum(r => r.Registered), reports.Sum(r => r.Lost), reports.Sum(r => r.ReferenceImages),
            reports.Sum(r => r.DifferenceImages), reports.Sum(r => r.StampedProducts),
            failures.Count, failures.Take(MaxFailureSamples).ToList(), request.Run.AnyFailed)
        {
            Unchanged = reports.Sum(r => r.Unchanged), Stale = reports.Sum(r => r.Stale), Rejected = reports.Sum(r => r.Rejected),
        };
        return LambdaStreams.Write(output, LambdaJsonContext.Default.RegisterOutput);
    }

    /// <summary>
    /// Why a job of a failed Batch state may have no manifest: the state's error (e.g. States.Timeout),
    /// for every job of the run, or of the failed chunks (the Map keeps the chunks' order).
    /// </summary>
    private async Task<IReadOnlyDictionary<long, string>?> LostReasonsAsync(PlanResult plan, RunOutcome run)
    {
        var reasons = new Dictionary<long, string>();
        if (run.Failed && plan.JobList is { } whole)
            await AddAsync(whole, run.Error);
        if (run.Chunks is { } outcomes && plan.Chunks is { } chunks)
            for (var i = 0; i < Math.Min(outcomes.Count, chunks.Count); i++)
                if (outcomes[i].Failed)
                    await AddAsync(chunks[i].JobList, outcomes[i].Error);
        return reasons.Count > 0 ? reasons : null;

        async Task AddAsync(ObjectRef list, string? error)
        {
            foreach (var job in (await Contract.ReadAsync<JobList>(_env.Store, list)).Jobs)
                reasons[job.Jid] = $"Batch state failed: {error ?? "unknown error"}";
        }
    }
}
