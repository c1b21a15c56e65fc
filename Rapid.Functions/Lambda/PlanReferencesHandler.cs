using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>PlanReferences λ (ppid 12): the resolved night → a PlanResult at <c>$.references.plan</c>.</summary>
public sealed class PlanReferencesHandler
{
    private readonly LambdaEnvironment _env;

    public PlanReferencesHandler() : this(Environment.GetEnvironmentVariable) { }

    internal PlanReferencesHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(PlanStep.RunAsync(_env, input,
        (ds, night, options) => new PlanReferenceImages(ds, _env.Store, _env.Keys, options).PlanAsync(night.Window, night.ProcDate)));
}
