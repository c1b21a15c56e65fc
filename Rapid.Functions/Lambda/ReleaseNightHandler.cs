using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// ReleaseNight λ: <c>$.night</c> → releases the run lease ResolveWindow took, without marking a scheduled
/// window finished (the next scheduled run resumes it). The state machine's failure path runs it, so a failed
/// execution does not hold its processing date until the lease expires. Returns <c>{"released": bool}</c>.
/// </summary>
public sealed class ReleaseNightHandler
{
    private readonly LambdaEnvironment _env;

    public ReleaseNightHandler() : this(Environment.GetEnvironmentVariable) { }

    internal ReleaseNightHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(HandleAsync(input));

    private async Task<Stream> HandleAsync(Stream input)
    {
        var night = LambdaStreams.Read(input, LambdaJsonContext.Default.NightInput, "night");
        var (_, procDate) = LambdaStreams.ParseWindow(night);
        var released = false;
        if (LeaseOf(night) is { } lease)
        {
            await using var conn = await (await _env.DataSourceAsync()).OpenConnectionAsync();
            await StartNight.FinishAsync(conn, procDate, lease, night.Scheduled, completed: false);
            released = true;
        }
        return LambdaStreams.Write(new ReleaseOutput(released), LambdaJsonContext.Default.ReleaseOutput);
    }

    /// <summary>The lease token of a night, if ResolveWindow gave one; a malformed token is named.</summary>
    internal static Guid? LeaseOf(NightInput night) =>
        night.Lease is null ? null
        : Guid.TryParse(night.Lease, out var token) ? token
        : throw new FormatException($"night.lease '{night.Lease}' is not a lease token");
}
