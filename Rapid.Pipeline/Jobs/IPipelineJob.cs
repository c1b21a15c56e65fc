namespace Rapid.Pipeline.Jobs;

/// <summary>One pipeline (ppid). Throws <see cref="JobFailedException"/> to end with a specific exit code.</summary>
public interface IPipelineJob
{
    Task<JobResult> RunAsync(JobContext context, CancellationToken ct);
}
