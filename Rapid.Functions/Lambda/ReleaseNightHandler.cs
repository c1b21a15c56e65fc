using Rapid.Functions.Record;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// ReleaseNight λ: <c>{night, failure}</c> → releases the run lease ResolveWindow took, without marking a scheduled
/// window finished (the next scheduled run resumes it), and ends the execution's run as failed with the failed state's
/// error. The state machine's failure path (a Catch around every state after ResolveWindow) runs it before the execution
/// fails, so a failed execution does not hold its processing date until the lease expires. Returns <c>{"released": bool}</c>.
/// </summary>
public sealed class ReleaseNightHandler
{
    private readonly LambdaEnvironment _env;

    public ReleaseNightHandler() : this(Environment.GetEnvironmentVariable) { }

    internal ReleaseNightHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(HandleAsync(input));

    private async Task<Stream> HandleAsync(Stream input)
    {
        var request = LambdaStreams.Read(input, LambdaJsonContext.Default.ReleaseInput, "release input");
        var night = request.Night;
        var (_, procDate) = LambdaStreams.ParseWindow(night);
        var lease = LeaseOf(night);
        if (lease is null && night.RunId is null) return LambdaStreams.Write(new ReleaseOutput(false), LambdaJsonContext.Default.ReleaseOutput);
        await using var conn = await (await _env.DataSourceAsync()).OpenConnectionAsync();
        if (night.RunId is { } runId)
            await Runs.EndAsync(conn, runId, RunStatuses.Failed, request.Failure is { } f ? $"{f.Error}: {Truncated(f.Cause)}" : "the execution failed");
        if (lease is { } token)
            await StartNight.FinishAsync(conn, procDate, token, night.Scheduled, completed: false);
        var released = lease is not null;
        return LambdaStreams.Write(new ReleaseOutput(released), LambdaJsonContext.Default.ReleaseOutput);
    }

    /// <summary>A Batch job's cause is its whole description: the run keeps its beginning.</summary>
    private static string Truncated(string? cause) => cause is null ? "" : cause.Length <= 500 ? cause : cause[..500] + "…";

    /// <summary>The lease token of a night, if ResolveWindow gave one; a malformed token is named.</summary>
    internal static Guid? LeaseOf(NightInput night) =>
        night.Lease is null ? null
        : Guid.TryParse(night.Lease, out var token) ? token
        : throw new FormatException($"night.lease '{night.Lease}' is not a lease token");
}
