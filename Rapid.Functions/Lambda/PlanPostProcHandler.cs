using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// PlanPostProc λ (ppid 17): the resolved night → a PlanResult at <c>$.postProcessing.plan</c>. The night's recovery
/// job (ppid 18) has a stage of its own after it (<see cref="PlanNightRecoveryHandler"/>).
/// </summary>
public sealed class PlanPostProcHandler
{
    private readonly LambdaEnvironment _env;

    public PlanPostProcHandler() : this(Environment.GetEnvironmentVariable) { }

    internal PlanPostProcHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(PlanStep.RunAsync(_env, input,
        (ds, night, options) => new PlanPostProcessing(ds, _env.Store, _env.Keys, options).PlanAsync(night.ProcDate)));
}
