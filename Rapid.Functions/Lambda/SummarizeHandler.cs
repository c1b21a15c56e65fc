using Rapid.Functions.Record;
using Rapid.Functions.Report;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// Summarize λ: <c>{night, references, science, postProcessing, nightRecovery?}</c> → the night's summary from the ops database,
/// for SNS, with the night's verdict and where its report is (written to the products bucket by <see cref="SummarizeStep"/>).
/// </summary>
public sealed class SummarizeHandler
{
    /// <summary>SNS messages are limited to 256 KB: list this many failed jobs, count the rest.</summary>
    public const int MaxFailuresListed = 50;

    private readonly LambdaEnvironment _env;

    public SummarizeHandler() : this(Environment.GetEnvironmentVariable) { }

    internal SummarizeHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(HandleAsync(input));

    private async Task<Stream> HandleAsync(Stream input)
    {
        var request = LambdaStreams.Read(input, LambdaJsonContext.Default.SummarizeInput, "summarize input");
        var (_, procDate) = LambdaStreams.ParseWindow(request.Night);
        var dataSource = await _env.DataSourceAsync();
        var night = await new SummarizeStep(dataSource, _env.Store, _env.Keys, NightReportOptions.FromEnvironment(_env.Get)).RunAsync(procDate, report: request.Report);
        var summary = night.Summary;
        // The night reached its end: its run succeeded, a scheduled window is finished and the run lease released.
        await using (var conn = await dataSource.OpenConnectionAsync())
        {
            if (request.Night.RunId is { } runId)
            {
                await Runs.EndAsync(conn, runId, RunStatuses.Succeeded);
                // The job API's submissions this execution ran get their verdict now, once (Submissions.RunEndedAsync).
                await new Rapid.Functions.Api.Submissions(dataSource).RunEndedAsync(runId);
            }
            if (ReleaseNightHandler.LeaseOf(request.Night) is { } lease)
                await StartNight.FinishAsync(conn, procDate, lease, request.Night.Scheduled, completed: true);
        }
        var message = new NightMessage
        {
            ProcDate = procDate.ToString(),
            StartDateTime = request.Night.StartDateTime,
            EndDateTime = request.Night.EndDateTime,
            TotalJobs = summary.TotalJobs,
            ReferenceImages = summary.ReferenceImages,
            DifferenceImages = summary.DifferenceImages,
            WithdrawnProducts = summary.WithdrawnProducts,
            SupersededBytesDeleted = summary.SupersededBytesDeleted,
            SourcesFound = summary.SourcesFound,
            Jobs = summary.Jobs,
            FailureCount = summary.Failures.Count,
            Failures = summary.Failures.Take(MaxFailuresListed).ToList(),
            Warnings = summary.Warnings,
            Elapsed = summary.Elapsed,
            Recovery = summary.Recovery,
            References = request.References?.Registered,
            Science = request.Science?.Registered,
            PostProcessing = request.PostProcessing?.Registered,
            NightRecovery = request.NightRecovery?.Registered,
            Verdict = night.Report?.Verdict.Word,
            Headline = night.Report?.Verdict.Headline,
            Report = night.Report?.Location,
            ReportError = night.ReportError,
        };
        return LambdaStreams.Write(message, LambdaJsonContext.Default.NightMessage);
    }
}
