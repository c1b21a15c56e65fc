using Rapid.Core.Batch;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Pipeline.Jobs;

namespace Rapid.Pipeline.Tests.Support;

/// <summary>
/// An object store on a temporary directory and a way to run the container entry point
/// (<see cref="JobRunner"/>) on one job, with the environment a Batch array child gets passed as a lookup.
/// </summary>
public sealed class JobTestBed : IDisposable
{
    public JobTestBed()
    {
        Root = Directory.CreateTempSubdirectory("rapid-jobs-test-").FullName;
        Store = new DirectoryObjectStore(Path.Combine(Root, "store"));
        Scratch = Directory.CreateDirectory(Path.Combine(Root, "scratch")).FullName;
    }

    public string Root { get; }
    public string Scratch { get; }
    public DirectoryObjectStore Store { get; }
    public ObjectKeys Keys { get; } = new(Buckets.Default);
    public ProcessingDate ProcDate { get; } = ProcessingDate.Parse("20280908");

    public async Task<ObjectRef> UploadL2Async(string localPath)
    {
        var target = Keys.L2File($"sim/{Path.GetFileName(localPath)}");
        await Store.PutFileAsync(target, localPath);
        return target;
    }

    public sealed record Run(int ExitCode, ProductManifest? Manifest, string Errors, ObjectRef ManifestRef);

    /// <summary>Writes the config (unless <paramref name="writeConfig"/> is false) and a one-entry job list, then runs the entry point.</summary>
    public async Task<Run> RunAsync(JobConfig config, bool writeConfig = true)
    {
        var configRef = Keys.JobConfig(ProcDate, config.Jid);
        if (writeConfig) await Contract.WriteAsync(Store, configRef, config);
        var manifestRef = Keys.Manifest(ProcDate, config.Jid);
        var listRef = Keys.JobList(ProcDate, config.Ppid, $"test{config.Jid}");
        await Contract.WriteAsync(Store, listRef, new JobList
        {
            Ppid = config.Ppid,
            ProcDate = ProcDate.ToString(),
            Jobs = [new JobListEntry(config.Jid, configRef, manifestRef)],
        });
        var environment = new Dictionary<string, string>
        {
            [BatchEnvironment.JobListVariable] = listRef.ToString(),
            [BatchEnvironment.ArrayIndexVariable] = "0",
            [BatchEnvironment.JobIdVariable] = $"test-{config.Jid}",
            [BatchEnvironment.StoreRootVariable] = Store.Root,
        };
        var errors = new StringWriter();
        var exit = await new JobRunner(environment.GetValueOrDefault, errors, TextWriter.Null).RunAsync();
        var manifest = await Store.ExistsAsync(manifestRef) ? await Contract.ReadAsync<ProductManifest>(Store, manifestRef) : null;
        return new Run(exit, manifest, errors.ToString(), manifestRef);
    }

    public string PathOf(ObjectRef obj) => Store.PathOf(obj);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("RAPID_KEEP_TEST_FILES") is null)
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
