using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Tests.Steps;

public sealed class JobPlanWriterTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"rapid-planwriter-{Guid.NewGuid():N}");
    private static readonly ObjectKeys Keys = new(Buckets.Default);
    private static readonly ProcessingDate Pd = ProcessingDate.Parse("20280907");

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    [Fact]
    public async Task A_plan_above_the_array_limit_keeps_the_whole_list_and_adds_chunk_lists()
    {
        var store = new DirectoryObjectStore(_root);
        var writer = new JobPlanWriter(store, Keys, new PlanningOptions { MaxArraySize = 4 });
        var list = new JobList
        {
            Ppid = 15, ProcDate = Pd.ToString(),
            Jobs = Enumerable.Range(1, 9).Select(j => new JobListEntry(j, Keys.JobConfig(Pd, j), Keys.Manifest(Pd, j))).ToArray(),
        };

        var plan = await writer.WriteListAsync(Pd, list, 0, CancellationToken.None);

        Assert.Equal(9, plan.ArraySize);
        Assert.Equal(9, (await Contract.ReadAsync<JobList>(store, plan.JobList!)).Jobs.Count);
        Assert.Equal([3, 3, 3], plan.Chunks!.Select(c => c.ArraySize));
        var chunkJobs = new List<long>();
        foreach (var chunk in plan.Chunks!)
        {
            var read = await Contract.ReadAsync<JobList>(store, chunk.JobList);
            Assert.Equal(chunk.ArraySize, read.Jobs.Count);
            chunkJobs.AddRange(read.Jobs.Select(j => j.Jid));
        }
        Assert.Equal(list.Jobs.Select(j => j.Jid), chunkJobs);
        Assert.Equal(3, plan.Chunks!.Select(c => c.JobList).Distinct().Count());
    }

    [Fact]
    public async Task A_plan_within_the_limit_has_no_chunks()
    {
        var writer = new JobPlanWriter(new DirectoryObjectStore(_root), Keys, new PlanningOptions { MaxArraySize = 4 });
        var list = new JobList
        {
            Ppid = 12, ProcDate = Pd.ToString(),
            Jobs = Enumerable.Range(1, 4).Select(j => new JobListEntry(j, Keys.JobConfig(Pd, j), Keys.Manifest(Pd, j))).ToArray(),
        };

        var plan = await writer.WriteListAsync(Pd, list, 0, CancellationToken.None);

        Assert.Equal(4, plan.ArraySize);
        Assert.Null(plan.Chunks);
        Assert.DoesNotContain("chunks", System.Text.Encoding.UTF8.GetString(Contract.Serialize(plan)));
    }
}
