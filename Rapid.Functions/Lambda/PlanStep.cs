using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>What the plan handlers share: read the night, plan with the night's options, return the PlanResult.</summary>
internal static class PlanStep
{
    public static async Task<Stream> RunAsync(LambdaEnvironment env, Stream input,
        Func<NpgsqlDataSource, (ObservationWindow Window, ProcessingDate ProcDate), PlanningOptions, Task<PlanResult>> plan)
    {
        var night = LambdaStreams.Read(input, LambdaJsonContext.Default.NightInput, "night");
        var parsed = LambdaStreams.Parse(night);
        var dataSource = await env.DataSourceAsync();
        var result = await plan(dataSource, parsed, await OptionsAsync(env, night));
        return LambdaStreams.Write(result, LambdaJsonContext.Default.PlanResult);
    }

    /// <summary>
    /// The environment's planning options (<see cref="LambdaEnvironment.PlanningAsync"/>) with what the night says: its force
    /// flag, whether it is scheduled, its run (attempts are recorded under it), its reference selection and the submitted job
    /// its plans are restricted to (resolved against the ops database as the embedded engine resolves it).
    /// </summary>
    public static async Task<PlanningOptions> OptionsAsync(LambdaEnvironment env, NightInput night)
    {
        var options = (await env.PlanningAsync(night.Force)) with { Scheduled = night.Scheduled, RunId = night.RunId };
        options = night.References?.ApplyTo(options) ?? options;
        if (night.Submission is not { } submitted) return options;
        await using var conn = await (await env.DataSourceAsync()).OpenConnectionAsync();
        return options with { Submission = await SubmittedJob.ResolveAsync(conn, submitted.Validate()) };
    }
}
