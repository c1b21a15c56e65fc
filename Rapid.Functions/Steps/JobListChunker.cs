using Rapid.Core.Contracts;

namespace Rapid.Functions.Steps;

/// <summary>
/// Splits a job list too large for one AWS Batch array job (at most 10,000 children, at least 2)
/// into near-equal chunks, in order: chunk sizes differ by at most one, so none is a lone job
/// (an array job of size 1 is rejected by Batch).
/// </summary>
public sealed class JobListChunker
{
    public const int BatchMaxArraySize = 10_000;

    public JobListChunker(int maxArraySize = BatchMaxArraySize)
    {
        // With n = ceil(total / max) chunks each holds more than max/2 jobs: max >= 4 keeps every chunk >= 2.
        if (maxArraySize < 4)
            throw new ArgumentOutOfRangeException(nameof(maxArraySize), maxArraySize, "maximum array size must be at least 4");
        MaxArraySize = maxArraySize;
    }

    public int MaxArraySize { get; }

    /// <summary>True when <paramref name="jobs"/> jobs cannot run as one array job.</summary>
    public bool NeedsChunks(int jobs) => jobs > MaxArraySize;

    /// <summary>The chunks of <paramref name="list"/>; empty when it fits in one array job.</summary>
    public IReadOnlyList<JobList> Split(JobList list)
    {
        var total = list.Jobs.Count;
        if (!NeedsChunks(total)) return [];
        var count = (total + MaxArraySize - 1) / MaxArraySize;
        var chunks = new List<JobList>(count);
        var start = 0;
        for (var i = 0; i < count; i++)
        {
            // The first (total % count) chunks take one job more.
            var size = total / count + (i < total % count ? 1 : 0);
            chunks.Add(list with { Jobs = list.Jobs.Skip(start).Take(size).ToArray() });
            start += size;
        }
        return chunks;
    }
}
