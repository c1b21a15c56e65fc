using System.Collections.Concurrent;
using System.Diagnostics;
using Rapid.Core.Batch;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;

namespace Rapid.Cli.Engine;

/// <summary>
/// Embedded stand-in for an AWS Batch array job: runs the pipeline's entry point once per array
/// child as a child process, <see cref="Parallelism"/> at a time, with the environment Batch gives
/// an array child (AWS_BATCH_JOB_ARRAY_INDEX, the job list, the buckets). Jobs never touch the
/// database; the outcomes only add what a manifest cannot say (a crash, a kill, a timeout).
/// </summary>
public sealed class LocalBatchExecutor(
    PipelineEntryPoint entryPoint, IObjectStore store, Buckets buckets, string? storeRoot)
{
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// When set, a child gets exactly these variables (and what Batch sets), as a container gets
    /// its job definition's environment, instead of this process's environment scrubbed of
    /// secrets; the local stand-in for AWS Batch sets it (<c>rapid batch submit</c>). Null
    /// <c>storeRoot</c> then means S3, as in a container.
    /// </summary>
    public IReadOnlyDictionary<string, string>? ContainerEnvironment { get; init; }

    /// <summary>A child still running after this is killed, like Batch's attempt-duration timeout.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(2);

    /// <summary>Raised when a child process has started (its process id), e.g. for monitoring or tests.</summary>
    public event Action<long, int>? ChildStarted;

    public async Task<IReadOnlyList<ChildOutcome>> RunAsync(PlanResult plan, IProgress<ChildOutcome>? progress = null, CancellationToken ct = default)
    {
        if (plan.JobList is null || plan.ArraySize == 0) return [];
        var list = await Contract.ReadAsync<JobList>(store, plan.JobList, ct);
        var arrayJobId = $"local-{plan.ProcDate}-ppid{plan.Ppid}-{Guid.NewGuid():N}"[..40];
        return await RunChildrenAsync(list, plan.JobList, list.Jobs.Count, isArray: true, arrayJobId, overrides: null, progress, ct);
    }

    /// <summary>
    /// One submitted Batch job over <paramref name="jobList"/>: an array job of <paramref name="arraySize"/>
    /// children, or a single job (no array index, as Batch runs it) when it is null. The container
    /// overrides are set on every child, under the variables Batch itself sets.
    /// </summary>
    public async Task<IReadOnlyList<ChildOutcome>> RunJobAsync(ObjectRef jobList, int? arraySize, string jobId,
        IReadOnlyDictionary<string, string> overrides, IProgress<ChildOutcome>? progress = null, CancellationToken ct = default)
    {
        var list = await Contract.ReadAsync<JobList>(store, jobList, ct);
        return await RunChildrenAsync(list, jobList, arraySize ?? 1, isArray: arraySize is not null, jobId, overrides, progress, ct);
    }

    private async Task<IReadOnlyList<ChildOutcome>> RunChildrenAsync(JobList list, ObjectRef listRef, int children, bool isArray,
        string jobId, IReadOnlyDictionary<string, string>? overrides, IProgress<ChildOutcome>? progress, CancellationToken ct)
    {
        var outcomes = new ConcurrentBag<ChildOutcome>();
        await Parallel.ForEachAsync(Enumerable.Range(0, children),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Parallelism), CancellationToken = ct },
            async (index, token) =>
            {
                var env = new BatchEnvironment(listRef, index, isArray ? $"{jobId}:{index}" : jobId, 1, buckets, storeRoot);
                // A child beyond the list still runs (and fails on its missing entry), as it would in Batch.
                var jid = index < list.Jobs.Count ? list.Jobs[index].Jid : -1;
                var outcome = await RunChildAsync(jid, env, isArray, overrides, token);
                outcomes.Add(outcome);
                progress?.Report(outcome);
            });
        return [.. outcomes.OrderBy(o => o.ArrayIndex)];
    }

    private async Task<ChildOutcome> RunChildAsync(long jid, BatchEnvironment env, bool isArray,
        IReadOnlyDictionary<string, string>? overrides, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var start = new ProcessStartInfo(entryPoint.Host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in entryPoint.Arguments) start.ArgumentList.Add(a);
        if (ContainerEnvironment is { } container)
        {
            start.Environment.Clear();
            foreach (var (k, v) in container) start.Environment[k] = v;
        }
        else ScrubSecrets(start.Environment);
        foreach (var (k, v) in overrides ?? new Dictionary<string, string>()) start.Environment[k] = v;
        foreach (var (k, v) in env.AsEnvironment()) start.Environment[k] = v;
        // Batch gives only array children an index; a single job runs entry 0 without one.
        if (!isArray) start.Environment.Remove(BatchEnvironment.ArrayIndexVariable);

        using var process = new Process { StartInfo = start };
        var stderrTail = new TailBuffer(20);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderrTail.Add(e.Data); };
        process.OutputDataReceived += (_, _) => { };
        try
        {
            process.Start();
        }
        catch (Exception e)
        {
            return new ChildOutcome(jid, env.ArrayIndex, ExitCodeWhenNotStarted, $"could not start the pipeline entry point: {e.Message}", clock.Elapsed);
        }
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        ChildStarted?.Invoke(jid, process.Id);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            var why = ct.IsCancellationRequested ? "cancelled" : $"timed out after {Timeout.TotalSeconds:0} s";
            return new ChildOutcome(jid, env.ArrayIndex, process.ExitCode, $"{why}; the job was killed", clock.Elapsed);
        }
        process.WaitForExit(); // drains the redirected streams
        return new ChildOutcome(jid, env.ArrayIndex, process.ExitCode, Describe(process.ExitCode, stderrTail), clock.Elapsed);
    }

    /// <summary>Exit code Batch would never give a started container: the job did not run at all.</summary>
    public const int ExitCodeWhenNotStarted = 127;

    private static string? Describe(int exitCode, TailBuffer stderr) => exitCode switch
    {
        > 128 and < 160 => $"killed by signal {exitCode - 128}",
        _ when Core.Jobs.ExitCodes.Severity(exitCode) == Core.Jobs.ExitCodeSeverity.Error && stderr.Last is { } line => line,
        _ => null,
    };

    /// <summary>Jobs never get database credentials or cloud keys from the parent's environment.</summary>
    private static void ScrubSecrets(IDictionary<string, string?> environment)
    {
        foreach (var key in environment.Keys.ToList())
            if (key.StartsWith("PG", StringComparison.Ordinal) || key == "RAPID_DB" ||
                key.StartsWith("AWS_", StringComparison.Ordinal) || key.Contains("SECRET", StringComparison.OrdinalIgnoreCase) ||
                key.Contains("PASSWORD", StringComparison.OrdinalIgnoreCase))
                environment.Remove(key);
    }

    private sealed class TailBuffer(int capacity)
    {
        private readonly Queue<string> _lines = new();
        public void Add(string line)
        {
            lock (_lines)
            {
                if (string.IsNullOrWhiteSpace(line)) return;
                _lines.Enqueue(line);
                if (_lines.Count > capacity) _lines.Dequeue();
            }
        }
        public string? Last { get { lock (_lines) return _lines.LastOrDefault(); } }
    }
}
