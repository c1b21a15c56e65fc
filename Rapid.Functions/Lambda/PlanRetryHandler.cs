using Rapid.Functions.Record;

namespace Rapid.Functions.Lambda;

/// <summary>
/// PlanRetry λ, the retry state after each stage's registration: <c>{night, plan, previous}</c> (the stage's plan and the
/// number of its previous round, 0 before the first) → the next resubmission round <c>{plan, round, waitSeconds}</c> at <c>$.{stage}.retry</c>
/// (<see cref="PlanResubmission"/>: the stage's failed jobs the policy covers, reopened with new attempts and a job list
/// of their own; an empty plan ends the stage). The policy is the night's (<c>$.night.retry</c>, which ResolveWindow resolved
/// from the execution input); a night without one takes the function's environment
/// (<see cref="ResubmissionPolicy.FromEnvironment"/>). The state machine waits <c>waitSeconds</c>, runs the list on
/// Batch, registers it and asks again.
/// </summary>
public sealed class PlanRetryHandler
{
    private readonly LambdaEnvironment _env;

    public PlanRetryHandler() : this(Environment.GetEnvironmentVariable) { }

    internal PlanRetryHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(HandleAsync(input));

    private async Task<Stream> HandleAsync(Stream input)
    {
        var request = LambdaStreams.Read(input, LambdaJsonContext.Default.RetryInput, "retry input");
        var policy = request.Night.Retry?.ToPolicy() ?? ResubmissionPolicy.FromEnvironment(_env.Get);
        var options = await PlanStep.OptionsAsync(_env, request.Night);
        var round = await new PlanResubmission(await _env.DataSourceAsync(), _env.Store, _env.Keys, options, policy)
            .PlanAsync(request.Plan, request.Previous + 1);
        return LambdaStreams.Write(round, LambdaJsonContext.Default.ResubmissionRound);
    }
}
