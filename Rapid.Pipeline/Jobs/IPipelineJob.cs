using Rapid.Core.Contracts;

namespace Rapid.Pipeline.Jobs;

/// <summary>One pipeline (ppid), as the runner sees it. Throws <see cref="JobFailedException"/> to end with a specific exit code.</summary>
public interface IPipelineJob
{
    Task<JobResult> RunAsync(JobContext context, CancellationToken ct);
}

/// <summary>
/// A pipeline that takes its typed spec and returns its typed outcome. A config whose spec is of another pipeline ends
/// the job with exit 67 (invalid config) before anything runs.
/// </summary>
public abstract class PipelineJob<TSpec, TOutcome> : IPipelineJob where TSpec : JobSpec where TOutcome : JobOutcome
{
    async Task<JobResult> IPipelineJob.RunAsync(JobContext context, CancellationToken ct)
    {
        var result = await RunAsync(context, ct);
        return new JobResult(result.Products, result.Outcome);
    }

    /// <summary>Runs the job of the context's config.</summary>
    public Task<JobResult<TOutcome>> RunAsync(JobContext context, CancellationToken ct) => RunAsync(context, context.Spec<TSpec>(), ct);

    protected abstract Task<JobResult<TOutcome>> RunAsync(JobContext context, TSpec spec, CancellationToken ct);
}

/// <summary>What a job hands back to the runner: its products (uploaded by the runner) and its outcome for the manifest.</summary>
public sealed record JobResult(IReadOnlyList<LocalProduct> Products, JobOutcome Outcome);

/// <inheritdoc cref="JobResult"/>
public sealed record JobResult<TOutcome>(IReadOnlyList<LocalProduct> Products, TOutcome Outcome) where TOutcome : JobOutcome;
