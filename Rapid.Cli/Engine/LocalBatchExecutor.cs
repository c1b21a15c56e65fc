using System.Collections.Concurrent;
using System.Diagnostics;
using Rapid.Core.Batch;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;

namespace Rapid.Cli.Engine;

/// <summary>
/// Embedded stand-in for an AWS Batch array job: runs the pipeline's entry point once per array
/// child as a child process, <see cref="Parallelism"/> at a time, with the environment Batch gives
/// an array child (AWS_BATCH_JOB_ARRAY_INDEX, the job list, the buckets) and nothing else of ours
/// (<see cref="ChildEnvironment"/>). Each child works in a directory of its own under
/// <see cref="WorkRoot"/> (its TMPDIR), removed when it ends however it ends, as a container's file
/// system goes with the container. Jobs never touch the database; the outcomes only add what a
/// manifest cannot say (a crash, a kill, a timeout, a cancelled run).
/// </summary>
public sealed class LocalBatchExecutor(
    PipelineEntryPoint entryPoint, IObjectStore store, Buckets buckets, string? storeRoot)
{
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// When set, a child gets exactly these variables (and what Batch sets), as a container gets
    /// its job definition's environment, instead of the allow-listed one of <see cref="ChildEnvironment"/>;
    /// the local stand-in for AWS Batch sets it (<c>rapid batch submit</c>). Null
    /// <c>storeRoot</c> then means S3, as in a container.
    /// </summary>
    public IReadOnlyDictionary<string, string>? ContainerEnvironment { get; init; }

    /// <summary>A child still running after this is killed, like Batch's attempt-duration timeout.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(2);

    /// <summary>Where the children's work directories are made (one per child, removed when it ends; see <see cref="WorkDirectories"/>).</summary>
    public string WorkRoot { get; init; } = Path.Combine(Path.GetTempPath(), "rapid-work");

    /// <summary>Why children are killed or not started when the run's token is cancelled (e.g. "rapid run received SIGTERM").</summary>
    public Func<string> CancellationReason { get; init; } = () => "the run was cancelled";

    /// <summary>Raised when a child process has started (its process id), e.g. for monitoring or tests.</summary>
    public event Action<long, int>? ChildStarted;

    /// <summary>
    /// Runs the plan's array. When <paramref name="ct"/> is cancelled, running children are killed and the rest
    /// are not started; every child still gets an outcome (with the reason), so registration can close its job.
    /// </summary>
    public async Task<IReadOnlyList<ChildOutcome>> RunAsync(PlanResult plan, IProgress<ChildOutcome>? progress = null, CancellationToken ct = default)
    {
        if (plan.JobList is null || plan.ArraySize == 0) return [];
        // Read even when cancelled: the outcomes name every job of the list.
        var list = await Contract.ReadAsync<JobList>(store, plan.JobList, CancellationToken.None);
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
        WorkDirectories.RemoveAbandoned(WorkRoot);
        // Not cancelled through the options: a cancelled run still gives every child an outcome.
        await Parallel.ForEachAsync(Enumerable.Range(0, children),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Parallelism) },
            async (index, _) =>
            {
                var env = new BatchEnvironment(listRef, index, isArray ? $"{jobId}:{index}" : jobId, 1, buckets, storeRoot);
                // A child beyond the list still runs (and fails on its missing entry), as it would in Batch.
                var jid = index < list.Jobs.Count ? list.Jobs[index].Jid : -1;
                var outcome = ct.IsCancellationRequested
                    ? new ChildOutcome(jid, index, ExitCodeWhenNotStarted, $"not started: {CancellationReason()}", TimeSpan.Zero)
                    : await RunChildAsync(jid, env, isArray, overrides, ct);
                outcomes.Add(outcome);
                progress?.Report(outcome);
            });
        return [.. outcomes.OrderBy(o => o.ArrayIndex)];
    }

    private async Task<ChildOutcome> RunChildAsync(long jid, BatchEnvironment env, bool isArray,
        IReadOnlyDictionary<string, string>? overrides, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var workDir = WorkDirectories.Create(WorkRoot, jid, env.ArrayIndex);
        try
        {
            return await RunProcessAsync(jid, env, isArray, overrides, workDir, clock, ct);
        }
        finally
        {
            // Whatever the child left (a killed or timed-out job leaves its scratch files) goes with it.
            WorkDirectories.Remove(workDir);
        }
    }

    private async Task<ChildOutcome> RunProcessAsync(long jid, BatchEnvironment env, bool isArray,
        IReadOnlyDictionary<string, string>? overrides, string workDir, Stopwatch clock, CancellationToken ct)
    {
        var start = new ProcessStartInfo(entryPoint.Host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir,
        };
        foreach (var a in entryPoint.Arguments) start.ArgumentList.Add(a);
        var own = new Dictionary<string, string>
        {
            ["TMPDIR"] = workDir,
            [BatchEnvironment.ParentPidVariable] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        // The AWS Batch stand-in gives exactly its container's environment; a local run the allow-listed one.
        if (ContainerEnvironment is { } container)
            ChildEnvironment.Apply(start.Environment, new Dictionary<string, string>(), container, overrides ?? new Dictionary<string, string>(), env.AsEnvironment());
        else
            ChildEnvironment.Apply(start.Environment, Environment.GetEnvironmentVariables(), own,
                overrides ?? new Dictionary<string, string>(), env.AsEnvironment());
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
            var why = ct.IsCancellationRequested ? CancellationReason() : $"timed out after {Timeout.TotalSeconds:0} s";
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
