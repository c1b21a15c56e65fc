using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>What the three plan handlers share: read the night, plan with its force flag, return the PlanResult.</summary>
internal static class PlanStep
{
    /// <summary>Fake sources per science image (0: none); unset means the default of <see cref="Core.Contracts.FakeSourcesConfig"/>.</summary>
    public const string FakeSourcesVariable = "RAPID_FAKE_SOURCES";

    public static PlanningOptions Options(LambdaEnvironment env, bool force)
    {
        var options = new PlanningOptions { Force = force };
        if (env.Get(FakeSourcesVariable) is not string text) return options;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count))
            throw new InvalidOperationException($"environment variable {FakeSourcesVariable} = '{text}' is not a count of fake sources");
        return options with { FakeSources = count > 0 ? new Core.Contracts.FakeSourcesConfig { Count = count } : null };
    }

    public static async Task<Stream> RunAsync(LambdaEnvironment env, Stream input,
        Func<NpgsqlDataSource, (ObservationWindow Window, ProcessingDate ProcDate), PlanningOptions, Task<PlanResult>> plan)
    {
        var night = LambdaStreams.Read(input, LambdaJsonContext.Default.NightInput, "night");
        var parsed = LambdaStreams.Parse(night);
        var dataSource = await env.DataSourceAsync();
        var result = await plan(dataSource, parsed, Options(env, night.Force));
        return LambdaStreams.Write(result, LambdaJsonContext.Default.PlanResult);
    }
}
