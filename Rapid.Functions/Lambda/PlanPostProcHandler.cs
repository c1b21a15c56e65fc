using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// PlanPostProc λ (ppid 17): the resolved night → a PlanResult at <c>$.postProcessing.plan</c>. Until the state machine
/// has the night-recovery state (<see cref="PlanNightRecoveryHandler"/>), the night's recovery job (ppid 18) is planned
/// into the same array, as before it had a stage of its own.
/// </summary>
public sealed class PlanPostProcHandler
{
    private readonly LambdaEnvironment _env;

    public PlanPostProcHandler() : this(Environment.GetEnvironmentVariable) { }

    internal PlanPostProcHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(PlanStep.RunAsync(_env, input,
        (ds, night, options) => new PlanPostProcessing(ds, _env.Store, _env.Keys, options).PlanWithNightRecoveryAsync(night.ProcDate)));
}
