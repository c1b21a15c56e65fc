using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;

namespace Rapid.Pipeline.Jobs;

/// <summary>A product made in the work directory, uploaded by the runner under the job's prefix with its file name.</summary>
public sealed record LocalProduct(string Role, string LocalPath)
{
    /// <summary>
    /// The file's size and digests when the job has them under way already (<see cref="Hashed"/>); otherwise the runner
    /// computes them at upload.
    /// </summary>
    public Task<FileChecksum>? Checksum { get; init; }

    /// <summary>
    /// A product whose SHA-256 and MD5 are computed in the background from now on, beside the job's next steps (a 4088^2
    /// image is 67 MB: hashing the products one after another at upload cost ~0.8 s of a science job's wall time). The
    /// file must not change after this call.
    /// </summary>
    public static LocalProduct Hashed(string role, string localPath) =>
        new(role, localPath) { Checksum = Task.Run(() => FileChecksum.Of(localPath)) };
}

/// <summary>Everything a running job may use: its config, the object store, a fresh work directory, the log and warnings.</summary>
public sealed class JobContext(JobConfig config, IObjectStore store, ObjectKeys keys, string workDirectory, JobLog log)
{
    private readonly List<JobWarning> _warnings = [];

    public JobConfig Config { get; } = config;
    public ProcessingDate ProcDate { get; } = ProcessingDate.Parse(config.ProcDate);
    public IObjectStore Store { get; } = store;
    public ObjectKeys Keys { get; } = keys;
    public string WorkDirectory { get; } = workDirectory;
    public JobLog Log { get; } = log;
    public IReadOnlyList<JobWarning> Warnings { get { lock (_warnings) return [.. _warnings]; } }

    /// <summary>The config's spec as pipeline <typeparamref name="T"/> reads it; exit 67 (invalid config) when it is another pipeline's.</summary>
    public T Spec<T>() where T : JobSpec
    {
        try { return Config.SpecAs<T>(); }
        catch (InvalidDataException e) { throw new JobFailedException(ExitCodes.InvalidConfig, e.Message, e); }
    }

    /// <summary>Records a degraded result: the job then ends with exit 32 and the warning, with its kind, in the manifest.</summary>
    public void Warn(JobWarningKind kind, string message)
    {
        lock (_warnings) _warnings.Add(new JobWarning(kind, message));
        Log.Info($"WARNING {kind}: {message}");
    }

    public string PathInWorkDirectory(string fileName) => Path.Combine(WorkDirectory, fileName);

    /// <summary>True for a file under the work directory (the job's own: a download, a product), false for one read in place.</summary>
    public bool IsInWorkDirectory(string path) =>
        Path.GetFullPath(path).StartsWith(Path.GetFullPath(WorkDirectory) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// Downloads an input into the work directory (in a sub-directory per call, so inputs with the same file
    /// name do not collide) and checks its MD5 when one is registered. Missing or mismatching → exit 65. The copy is the
    /// job's own: it may change or delete it.
    /// </summary>
    public Task<string> DownloadInputAsync(ObjectRef source, string? expectedMd5, CancellationToken ct) => InputAsync(source, expectedMd5, inPlace: false, ct);

    /// <summary>
    /// An input the job only reads, never changes or deletes: a store whose objects are local files
    /// (<see cref="ILocalObjectFiles"/>) gives the object's own file, read where it lies (no copy of a 67 MB image);
    /// any other store downloads it as <see cref="DownloadInputAsync"/> does. MD5 and missing inputs as there.
    /// </summary>
    public Task<string> ReadInputAsync(ObjectRef source, string? expectedMd5, CancellationToken ct) => InputAsync(source, expectedMd5, inPlace: true, ct);

    private async Task<string> InputAsync(ObjectRef source, string? expectedMd5, bool inPlace, CancellationToken ct)
    {
        string local;
        try
        {
            if (inPlace && Store is ILocalObjectFiles files) local = files.ReadablePath(source);
            else
            {
                var dir = Directory.CreateDirectory(Path.Combine(WorkDirectory, "inputs", Guid.NewGuid().ToString("N")[..8])).FullName;
                local = Path.Combine(dir, source.FileName);
                await Store.GetFileAsync(source, local, ct);
            }
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
