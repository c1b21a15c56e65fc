using Rapid.Core.Jobs;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>ResolveWindow λ: the execution input (all optional) → the resolved night at <c>$.night</c>.</summary>
public sealed class ResolveWindowHandler
{
    private readonly LambdaEnvironment _env;
    private readonly TimeProvider _clock;

    public ResolveWindowHandler() : this(Environment.GetEnvironmentVariable) { }

    internal ResolveWindowHandler(Func<string, string?> lookup, TimeProvider? clock = null)
    {
        _env = new LambdaEnvironment(lookup);
        _clock = clock ?? TimeProvider.System;
    }

    public Stream Handle(Stream input)
    {
        var request = LambdaStreams.Read(input, LambdaJsonContext.Default.ExecutionInput, "execution input");
        var resolved = new ResolveWindow(_clock, _env.TimeZone)
            .Resolve(new WindowRequest(request.StartDateTime, request.EndDateTime, request.ProcDate));
        var night = new NightInput(
            ObservationWindow.Format(resolved.Window.Start), ObservationWindow.Format(resolved.Window.End),
            resolved.ProcDate.ToString(), request.Force ?? false);
        return LambdaStreams.Write(night, LambdaJsonContext.Default.NightInput);
    }
}
