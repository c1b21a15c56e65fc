using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;

namespace Rapid.Pipeline.Jobs;

/// <summary>A product made in the work directory, uploaded by the runner under the job's prefix with its file name.</summary>
public sealed record LocalProduct(string Role, string LocalPath);

/// <summary>What a job hands back to the runner besides its products.</summary>
public sealed record JobResult
{
    public IReadOnlyList<LocalProduct> Products { get; init; } = [];
    public ReferenceImageResult? ReferenceImage { get; init; }
    public DifferenceImageResult? DifferenceImage { get; init; }
    public PostProcessingResult? PostProcessing { get; init; }
    public InjectionRecoveryResult? InjectionRecovery { get; init; }
    public NightRecoveryResult? NightRecovery { get; init; }
}

/// <summary>Everything a running job may use: its config, the object store, a fresh work directory, the log and warnings.</summary>
public sealed class JobContext(JobConfig config, IObjectStore store, ObjectKeys keys, string workDirectory, JobLog log)
{
    private readonly List<string> _warnings = [];

    public JobConfig Config { get; } = config;
    public ProcessingDate ProcDate { get; } = ProcessingDate.Parse(config.ProcDate);
    public IObjectStore Store { get; } = store;
    public ObjectKeys Keys { get; } = keys;
    public string WorkDirectory { get; } = workDirectory;
    public JobLog Log { get; } = log;
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>Records a degraded result: the job then ends with exit 32 and the warning in the manifest.</summary>
    public void Warn(string warning)
    {
        _warnings.Add(warning);
        Log.Info($"WARNING {warning}");
    }

    public string PathInWorkDirectory(string fileName) => Path.Combine(WorkDirectory, fileName);

    /// <summary>
    /// Downloads an input into the work directory (in a sub-directory per call, so inputs with the same file
    /// name do not collide) and checks its MD5 when one is registered. Missing or mismatching → exit 65.
    /// </summary>
    public async Task<string> DownloadInputAsync(ObjectRef source, string? expectedMd5, CancellationToken ct)
    {
        var dir = Directory.CreateDirectory(Path.Combine(WorkDirectory, "inputs", Guid.NewGuid().ToString("N")[..8])).FullName;
        var local = Path.Combine(dir, source.FileName);
        try
        {
            await Store.GetFileAsync(source, local, ct);
        }
        catch (ObjectNotFoundException)
        {
            throw JobFailedException.InvalidInput($"input {source} does not exist");
        }
        if (!string.IsNullOrEmpty(expectedMd5))
        {
            var actual = FileChecksum.Of(local).Md5;
            if (!string.Equals(actual, expectedMd5, StringComparison.OrdinalIgnoreCase))
                throw JobFailedException.InvalidInput($"input {source}: MD5 {actual} does not match the registered {expectedMd5}");
        }
        Log.Info($"downloaded {source}");
        return local;
    }
}
