using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>What the three plan handlers share: read the night, plan with its force flag, return the PlanResult.</summary>
internal static class PlanStep
{
    public static async Task<Stream> RunAsync(LambdaEnvironment env, Stream input,
        Func<NpgsqlDataSource, (ObservationWindow Window, ProcessingDate ProcDate), PlanningOptions, Task<PlanResult>> plan)
    {
        var night = LambdaStreams.Read(input, LambdaJsonContext.Default.NightInput, "night");
        var parsed = LambdaStreams.Parse(night);
        var dataSource = await env.DataSourceAsync();
        var result = await plan(dataSource, parsed, await env.PlanningAsync(night.Force));
        return LambdaStreams.Write(result, LambdaJsonContext.Default.PlanResult);
    }
}
