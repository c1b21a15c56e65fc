using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Tests.Steps;

public sealed class JobListChunkerTests
{
    private static readonly ObjectKeys Keys = new(Buckets.Default);
    private static readonly ProcessingDate Pd = ProcessingDate.Parse("20280907");

    private static JobList ListOf(int jobs) => new()
    {
        Ppid = 15, ProcDate = Pd.ToString(),
        Jobs = Enumerable.Range(1, jobs).Select(j => new JobListEntry(j, Keys.JobConfig(Pd, j), Keys.Manifest(Pd, j))).ToArray(),
    };

    [Fact]
    public void A_list_that_fits_one_array_job_is_not_chunked()
    {
        Assert.Empty(new JobListChunker(4).Split(ListOf(4)));
    }

    [Theory]
    [InlineData(5, new[] { 3, 2 })]
    [InlineData(9, new[] { 3, 3, 3 })]
    [InlineData(13, new[] { 4, 3, 3, 3 })]
    public void A_larger_list_splits_in_order_into_near_equal_chunks_of_at_least_two(int jobs, int[] sizes)
    {
        var list = ListOf(jobs);

        var chunks = new JobListChunker(4).Split(list);

        Assert.Equal(sizes, chunks.Select(c => c.Jobs.Count));
        Assert.Equal(list.Jobs, chunks.SelectMany(c => c.Jobs));
        Assert.All(chunks, c => Assert.Equal((15, "20280907"), (c.Ppid, c.ProcDate)));
    }

    [Fact]
    public void The_default_is_the_AWS_Batch_array_limit()
    {
        var chunker = new JobListChunker();
        Assert.False(chunker.NeedsChunks(10_000));
        Assert.True(chunker.NeedsChunks(10_001));
        Assert.Equal([5001, 5000], chunker.Split(ListOf(10_001)).Select(c => c.Jobs.Count));
    }

    [Fact]
    public void A_maximum_too_small_to_keep_chunks_of_two_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new JobListChunker(3));
    }
}
