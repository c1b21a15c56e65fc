using Rapid.Core.Jobs;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// ResolveWindow λ: the execution input (all optional) → the resolved night at <c>$.night</c>. It begins the
/// night in the ops database (<see cref="StartNight"/>): a scheduled run's window continues from the watermark,
/// and the execution takes the processing date's run lease (released by Summarize, or by ReleaseNight when the
/// execution fails), so a second execution of the same date fails here, before it plans anything.
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
        var request = LambdaStreams.Read(input, LambdaJsonContext.Default.ExecutionInput, "execution input");
        var resolver = new ResolveWindow(_clock, _env.TimeZone);
        var window = new WindowRequest(request.StartDateTime, request.EndDateTime, request.ProcDate);
        resolver.Resolve(window); // bad input is named before the database is reached
        await using var conn = await (await _env.DataSourceAsync()).OpenConnectionAsync();
        var night = await new StartNight(resolver).StartAsync(conn, window, LeaseHolder, _env.RunLeaseDuration);
        var output = new NightInput(
            ObservationWindow.Format(night.Night.Window.Start), ObservationWindow.Format(night.Night.Window.End),
            night.Night.ProcDate.ToString(), request.Force ?? false, night.Night.Scheduled,
            night.LateFrom is { } late ? ObservationWindow.Format(late) : null, night.Lease.Token.ToString());
        return LambdaStreams.Write(output, LambdaJsonContext.Default.NightInput);
    }
}
