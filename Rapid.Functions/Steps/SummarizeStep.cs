using Npgsql;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Report;

namespace Rapid.Functions.Steps;

/// <summary>What the Summarize state made: the night's summary, and its report (or why there is none).</summary>
/// <param name="ReportError">Why the report could not be made; the summary still stands (and says so).</param>
public sealed record SummarizedNight(NightSummary Summary, PublishedReport? Report, string? ReportError);

/// <summary>
/// The Summarize state of the nightly workflow, as the λ and the embedded engine run it: the night's summary from the
/// ops database, and the night report written beside the night's products (<see cref="ObjectKeys.NightReport"/>).
/// A report that cannot be made does not fail the night: its error is returned for the message and the console.
/// </summary>
public sealed class SummarizeStep(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, NightReportOptions reportOptions)
{
    /// <param name="report">False for a prompt (per-image) run: the summary only; the night's report is the nightly run's.</param>
    public async Task<SummarizedNight> RunAsync(ProcessingDate procDate, CancellationToken ct = default, bool report = true)
    {
        var summary = await new SummarizeNight(dataSource).SummarizeAsync(procDate, ct: ct);
        if (!report) return new SummarizedNight(summary, null, null);
        try
        {
            var published = await new NightReports(dataSource, store, keys, reportOptions).PublishAsync(procDate, ct);
            return new SummarizedNight(summary, published, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new SummarizedNight(summary, null, $"the night report could not be made: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
}
