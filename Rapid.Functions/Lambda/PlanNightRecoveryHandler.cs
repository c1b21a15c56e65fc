using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// PlanNightRecovery λ (ppid 18): the resolved night → a PlanResult at <c>$.nightRecovery.plan</c>. Runs after post-processing
/// is registered (the night's recovery job reads the science jobs' tables under their stamped names); its job list is
/// run by the post-processing job definition and registered by the Register λ like any other stage.
/// </summary>
public sealed class PlanNightRecoveryHandler
{
    private readonly LambdaEnvironment _env;

    public PlanNightRecoveryHandler() : this(Environment.GetEnvironmentVariable) { }

    internal PlanNightRecoveryHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(PlanStep.RunAsync(_env, input,
        (ds, night, options) => new PlanNightRecovery(ds, _env.Store, _env.Keys, options).PlanAsync(night.ProcDate)));
}
