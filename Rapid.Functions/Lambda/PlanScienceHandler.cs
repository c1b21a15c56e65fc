using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>PlanScience λ (ppid 15): the resolved night → a PlanResult at <c>$.science.plan</c>.</summary>
public sealed class PlanScienceHandler
{
    private readonly LambdaEnvironment _env;

    public PlanScienceHandler() : this(Environment.GetEnvironmentVariable) { }

    internal PlanScienceHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(PlanStep.RunAsync(_env, input,
        (ds, night, options) => new PlanScienceJobs(ds, _env.Store, _env.Keys, options).PlanAsync(night.Window, night.ProcDate)));
}
