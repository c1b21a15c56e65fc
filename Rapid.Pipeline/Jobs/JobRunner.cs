using System.Security.Cryptography;
using System.Text;
using Rapid.Core.Batch;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// The container entry point's work: the process AWS Batch runs for every array child (and the local
/// executor runs as a child process with the same environment). Reads the job list entry of its array
/// index, the job config, runs the pipeline of its ppid in a fresh work directory, uploads the products,
/// the log, and — always, last — the product manifest. Returns the manifest's exit code.
/// </summary>
/// <param name="environment">Looks up an environment variable (tests pass a dictionary instead of mutating the process's).</param>
/// <param name="errors">One-line failure messages (stderr).</param>
/// <param name="output">Log lines as they happen (stdout).</param>
public sealed class JobRunner(Func<string, string?> environment, TextWriter? errors = null, TextWriter? output = null)
{
    private readonly TextWriter _errors = errors ?? Console.Error;
    private readonly TextWriter _output = output ?? Console.Out;

    /// <summary>The pipeline that runs each ppid; tests may replace one.</summary>
    public Func<int, IPipelineJob?> Pipelines { get; init; } = ppid => ppid switch
    {
        PipelineIds.ReferenceImage => new ReferenceImageJob(),
        PipelineIds.Science => new ScienceJob(),
        PipelineIds.PostProcessing => new PostProcessingJob(),
        PipelineIds.NightRecovery => new NightRecoveryJob(),
        _ => null,
    };

    /// <summary>Set by AWS Batch on every job (not in the local executor's environment).</summary>
    public const string ComputeEnvironmentVariable = "AWS_BATCH_CE_NAME";
    public const string JobQueueVariable = "AWS_BATCH_JQ_NAME";

    public async Task<int> RunAsync(CancellationToken ct = default)
    {
        var started = DateTimeOffset.UtcNow;
        var cpuStart = Environment.CpuUsage.TotalTime;
        BatchEnvironment batch;
        IObjectStore store;
        JobList jobList;
        try
        {
            batch = BatchEnvironment.FromEnvironment(environment);
            store = ObjectStores.FromEnvironment(environment);
            jobList = await Contract.ReadAsync<JobList>(store, batch.JobList, ct);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException or IOException)
        {
            // Without a job list entry there is no manifest location: Batch and the local executor see the exit code.
            _errors.WriteLine($"rapid-pipeline: {e.Message}");
            return ExitCodes.InvalidConfig;
        }
        if (batch.ArrayIndex >= jobList.Jobs.Count)
        {
            _errors.WriteLine($"rapid-pipeline: array index {batch.ArrayIndex} is beyond the {jobList.Jobs.Count} jobs of {batch.JobList}");
            return ExitCodes.InvalidConfig;
        }

        var entry = jobList.Jobs[batch.ArrayIndex];
        var keys = new ObjectKeys(batch.Buckets);
        var log = new JobLog(_output);
        log.Info($"rapid-pipeline {SoftwareVersion.Current}: jid {entry.Jid}, ppid {jobList.Ppid}, array index {batch.ArrayIndex}, batch job {batch.BatchJobId}, attempt {batch.Attempt}");
        var run = await RunEntryAsync(entry, jobList, store, keys, log, ct);

        var procDate = ProcessingDate.TryParse(run.Config?.ProcDate, out var d) ? d : ProcessingDate.TryParse(jobList.ProcDate, out d) ? d : (ProcessingDate?)null;
        var exitCode = run.ExitCode;
        var reason = run.Reason;
        log.Info($"terminating exit code {exitCode} ({ExitCodes.Describe(exitCode)}){(reason is null ? "" : ": " + reason)}");
        try
        {
            if (procDate is null) throw new InvalidDataException("no valid processing date to name the log by");
            await store.PutBytesAsync(keys.Log(procDate.Value, entry.Jid), Encoding.UTF8.GetBytes(log.Text), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (ExitCodes.Severity(exitCode) != ExitCodeSeverity.Error)
            {
                exitCode = ExitCodes.LogUploadFailed;
                reason = $"log upload failed: {e.Message}";
            }
        }

        var ended = DateTimeOffset.UtcNow;
        var hasProducts = ExitCodes.HasProducts(exitCode);
        var manifest = new ProductManifest
        {
            Jid = entry.Jid,
            Ppid = run.Config?.Ppid ?? jobList.Ppid,
            ProcDate = procDate?.ToString() ?? jobList.ProcDate,
            ExitCode = exitCode,
            Reason = reason is null ? null : OneLine(reason),
            Warnings = run.Warnings,
            Started = started,
            Ended = ended,
            Batch = new BatchRun
            {
                JobId = batch.BatchJobId, Attempt = batch.Attempt,
                ArrayIndex = environment(BatchEnvironment.ArrayIndexVariable) is null ? null : batch.ArrayIndex,
                ComputeEnvironment = environment(ComputeEnvironmentVariable), JobQueue = environment(JobQueueVariable),
            },
            Host = new HostInfo { Name = Environment.MachineName, ProcessorCount = Environment.ProcessorCount },
            Software = SoftwareInfo.Parse(SoftwareVersion.Current),
            ConfigSha256 = run.ConfigSha256,
            Settings = run.Config?.Settings,
            Resources = new JobResources
            {
                WallSeconds = Math.Round((ended - started).TotalSeconds, 3),
                CpuSeconds = Math.Round((Environment.CpuUsage.TotalTime - cpuStart).TotalSeconds, 3),
                PeakMemoryBytes = ProcessMemory.PeakResidentBytes(),
            },
            Timeline = log.Timeline,
            Products = hasProducts ? run.Products : [],
            Outcome = hasProducts ? run.Result?.Outcome : null,
        };
        try
        {
            await Contract.WriteAsync(store, entry.Manifest, manifest, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _errors.WriteLine($"rapid-pipeline: writing the manifest {entry.Manifest} failed: {e.Message}");
            return ExitCodes.Error;
        }
        if (reason is not null) _errors.WriteLine($"rapid-pipeline: jid {entry.Jid}: exit {exitCode}: {OneLine(reason)}");
        return exitCode;
    }

    private sealed record EntryRun(int ExitCode, string? Reason, JobConfig? Config, string ConfigSha256,
        IReadOnlyList<JobWarning> Warnings, IReadOnlyList<ProductFile> Products, JobResult? Result);

    private async Task<EntryRun> RunEntryAsync(JobListEntry entry, JobList jobList, IObjectStore store, ObjectKeys keys, JobLog log, CancellationToken ct)
    {
        byte[] configBytes;
        try
        {
            configBytes = await store.GetBytesAsync(entry.Config, ct);
        }
        catch (ObjectNotFoundException)
        {
            return Failed(ExitCodes.InvalidConfig, $"job config {entry.Config} does not exist");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The store failed (not the config): an error, not an invalid config.
            return Failed(ExitCodes.Error, $"reading job config {entry.Config} failed: {e.Message}");
        }
        var sha = Convert.ToHexStringLower(SHA256.HashData(configBytes));
        JobConfig config;
        try
        {
            config = Contract.Deserialize<JobConfig>(configBytes, entry.Config.ToString());
            if (config.Jid != entry.Jid) throw new InvalidDataException($"{entry.Config}: jid {config.Jid} does not match the job list's jid {entry.Jid}");
            if (!ProcessingDate.TryParse(config.ProcDate, out _)) throw new InvalidDataException($"{entry.Config}: procdate '{config.ProcDate}' is not yyyyMMdd");
        }
        catch (InvalidDataException e)
        {
            return Failed(ExitCodes.InvalidConfig, e.Message, sha);
        }
        var pipeline = Pipelines(config.Spec.Ppid);
        if (pipeline is null)
            return Failed(ExitCodes.InvalidConfig, $"{entry.Config}: ppid {config.Ppid} is not a pipeline this image runs", sha, config);
        log.Info($"config {entry.Config} (sha256 {sha}): {PipelineIds.Describe(config.Ppid)}");

        var workDir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"rapid-jid{config.Jid}-{Guid.NewGuid():N}")).FullName;
        var context = new JobContext(config, store, keys, workDir, log);
        try
        {
            var result = await pipeline.RunAsync(context, ct);
            var products = new List<ProductFile>();
            using (log.Step("upload"))
            {
                // Side by side (a copy or a network transfer each, with its checksum if it is not computed yet): one
                // product at a time left a core idle. Recorded and logged in the products' order. A store of local
                // files takes each product made in the work directory by a rename: that directory is deleted next anyway
                // (a product outside it, such as an input read in place, is copied).
                var uploads = result.Products.Select(p => Task.Run(async () =>
                {
                    var target = keys.Product(context.ProcDate, config.Jid, Path.GetFileName(p.LocalPath));
                    var checksum = p.Checksum is { } hashing ? await hashing : FileChecksum.Of(p.LocalPath);
                    if (store is ILocalObjectFiles files && context.IsInWorkDirectory(p.LocalPath))
                        await files.MoveFileAsync(target, p.LocalPath, ct);
                    else await store.PutFileAsync(target, p.LocalPath, ct);
                    return new ProductFile(p.Role, target, checksum);
                }, ct)).ToList();
                foreach (var product in await Task.WhenAll(uploads))
                {
                    products.Add(product);
                    log.Info($"uploaded {product.Role} {product.File} ({product.Checksum.SizeBytes} bytes, md5 {product.Checksum.Md5})");
                }
            }
            var warnings = context.Warnings;
            return new EntryRun(warnings.Count > 0 ? ExitCodes.Degraded : ExitCodes.Success, null, config, sha, warnings, products, result);
        }
        catch (JobFailedException e)
        {
            log.Info($"job failed: {e.Message}");
            return Failed(e.ExitCode, e.Message, sha, config, context.Warnings);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.Info($"unexpected error: {e}");
            return Failed(ExitCodes.Error, $"{e.GetType().Name}: {e.Message}", sha, config, context.Warnings);
        }
        finally
        {
            try { Directory.Delete(workDir, recursive: true); }
            catch (IOException e) { log.Info($"could not delete the work directory {workDir}: {e.Message}"); }
        }
    }

    private static EntryRun Failed(int code, string reason, string sha = "", JobConfig? config = null, IReadOnlyList<JobWarning>? warnings = null) =>
        new(code, reason, config, sha, warnings ?? [], [], null);

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
