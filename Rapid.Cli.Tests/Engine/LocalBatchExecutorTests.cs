using Rapid.Cli.Engine;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;

namespace Rapid.Cli.Tests.Engine;

/// <summary>
/// The local executor with stand-in jobs (a shell, as the container's entry point): what environment a child
/// gets, where it works, and what is left after a timeout or a cancelled run.
/// Alone (not beside other tests): one test sets secret-like variables in this process's environment.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class LocalBatchExecutorTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("rapid-executor-");
    private readonly DirectoryObjectStore _store;

    public LocalBatchExecutorTests() => _store = new DirectoryObjectStore(_root.FullName);

    public void Dispose()
    {
        try { _root.Delete(recursive: true); } catch (IOException) { }
    }

    private string WorkRoot => Path.Combine(_root.FullName, "work");

    private LocalBatchExecutor Executor(string script, TimeSpan? timeout = null, int parallelism = 2) =>
        new(new PipelineEntryPoint("/bin/sh", ["-c", script]), _store, Buckets.Default, _root.FullName)
        {
            Parallelism = parallelism, WorkRoot = WorkRoot, Timeout = timeout ?? TimeSpan.FromMinutes(1),
            CancellationReason = () => "rapid run received SIGTERM",
        };

    private async Task<PlanResult> PlanAsync(int jobs)
    {
        var list = new JobList
        {
            Ppid = 15, ProcDate = "20280910",
            Jobs = Enumerable.Range(1, jobs).Select(j => new JobListEntry(j,
                new ObjectRef(Buckets.Default.Pipeline, $"20280910/jid{j}/job_config_jid{j}.json"),
                new ObjectRef(Buckets.Default.Pipeline, $"20280910/jid{j}/manifest_jid{j}.json"))).ToList(),
        };
        var key = new ObjectRef(Buckets.Default.Pipeline, "20280910/plans/joblist_ppid15.json");
        await Contract.WriteAsync(_store, key, list);
        return new PlanResult { Ppid = 15, ProcDate = "20280910", JobList = key, ArraySize = jobs };
    }

    [Fact]
    public async Task A_child_gets_the_allowed_variables_and_its_own_and_no_secret_whatever_its_name()
    {
        // Names a deny-list missed: DATABASE_URL, *TOKEN*, *KEY, *PASS*, *CREDENTIALS*; and the ones it caught.
        var secrets = new[]
        {
            "DATABASE_URL", "GITHUB_TOKEN", "RAPID_TEST_API_KEY", "DB_PASS", "GOOGLE_APPLICATION_CREDENTIALS", "PGPASSWORD", "RAPID_DB",
            "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "SOME_SECRET", "ANYTHING_ELSE",
        };
        foreach (var name in secrets) Environment.SetEnvironmentVariable(name, "s3cret-value");
        try
        {
            var outcomes = await Executor("""env > "$RAPID_STORE_ROOT/env-$AWS_BATCH_JOB_ARRAY_INDEX" """).RunAsync(await PlanAsync(1));
            Assert.Equal(0, Assert.Single(outcomes).ExitCode);
        }
        finally
        {
            foreach (var name in secrets) Environment.SetEnvironmentVariable(name, null);
        }
        var env = (await File.ReadAllLinesAsync(Path.Combine(_root.FullName, "env-0")))
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);

        Assert.DoesNotContain(env, kv => kv.Value.Contains("s3cret-value"));
        Assert.All(secrets, name => Assert.False(env.ContainsKey(name), $"{name} reached the child"));
        // What a job needs: its list, its index, the buckets, the store; where programs are; its own scratch directory.
        Assert.Equal("s3://rapid-pipeline-files/20280910/plans/joblist_ppid15.json", env["RAPID_JOB_LIST"]);
        Assert.Equal("0", env["AWS_BATCH_JOB_ARRAY_INDEX"]);
        Assert.Equal(_root.FullName, env["RAPID_STORE_ROOT"]);
        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), env["PATH"]);
        Assert.StartsWith(WorkRoot + "/", env["TMPDIR"]);
        Assert.Equal(Environment.ProcessId.ToString(), env[Core.Batch.BatchEnvironment.ParentPidVariable]);
        // Nothing beyond the allow-list and the job's own variables (sh itself adds PWD, SHLVL and _).
        var own = new[] { "TMPDIR", "RAPID_JOB_LIST", "RAPID_STORE_ROOT", "RAPID_PARENT_PID", "PWD", "SHLVL", "_" };
        Assert.All(env.Keys, k => Assert.True(ChildEnvironment.IsInherited(k) || own.Contains(k) || k.StartsWith("AWS_BATCH_JOB_", StringComparison.Ordinal)
                                              || k.StartsWith("RAPID_", StringComparison.Ordinal) && k.EndsWith("_BUCKET", StringComparison.Ordinal), $"{k} reached the child"));
    }

    [Fact]
    public async Task A_timed_out_job_is_killed_and_its_work_directory_removed()
    {
        var outcomes = await Executor("""mkdir -p "$TMPDIR/scratch" && echo partial > "$TMPDIR/scratch/diffimage.fits" && exec sleep 60""",
            timeout: TimeSpan.FromSeconds(1)).RunAsync(await PlanAsync(1));

        var outcome = Assert.Single(outcomes);
        Assert.Contains("timed out after 1 s; the job was killed", outcome.Reason);
        Assert.True(outcome.Elapsed < TimeSpan.FromSeconds(30));
        Assert.Empty(Directory.EnumerateFileSystemEntries(WorkRoot));
    }

    [Fact]
    public async Task A_cancelled_run_kills_its_running_jobs_and_gives_every_job_an_outcome_with_the_reason()
    {
        using var cancel = new CancellationTokenSource();
        var executor = Executor("""touch "$TMPDIR/started" && exec sleep 60""", parallelism: 2);
        var started = 0;
        executor.ChildStarted += (_, _) => { if (Interlocked.Increment(ref started) == 2) cancel.CancelAfter(200); };

        var outcomes = await executor.RunAsync(await PlanAsync(5), ct: cancel.Token);

        Assert.Equal([1L, 2, 3, 4, 5], outcomes.Select(o => o.Jid));
        var killed = outcomes.Where(o => o.Reason == "rapid run received SIGTERM; the job was killed").ToList();
        var notStarted = outcomes.Where(o => o.Reason == "not started: rapid run received SIGTERM").ToList();
        Assert.Equal(2, killed.Count);
        Assert.Equal(3, notStarted.Count);
        Assert.All(notStarted, o => Assert.Equal(LocalBatchExecutor.ExitCodeWhenNotStarted, o.ExitCode));
        Assert.Empty(Directory.EnumerateFileSystemEntries(WorkRoot));
    }

    [Fact]
    public void Work_directories_of_a_process_that_is_gone_are_removed_and_those_of_live_ones_kept()
    {
        var mine = WorkDirectories.Create(WorkRoot, 7, 0);
        // A process id that is not running (the kernel's pid_max is at most 4194304), and a live process with another start time.
        var gone = Directory.CreateDirectory(Path.Combine(WorkRoot, "4194305.123-jid8-0-abcdef12")).FullName;
        var initStart = long.Parse(File.ReadAllText("/proc/1/stat").Split(')')[^1].Trim().Split(' ')[19]);
        var reused = Directory.CreateDirectory(Path.Combine(WorkRoot, $"1.{initStart + 1}-jid9-0-abcdef12")).FullName;

        Assert.Equal(2, WorkDirectories.RemoveAbandoned(WorkRoot));
        Assert.True(Directory.Exists(mine));
        Assert.False(Directory.Exists(gone));
        Assert.False(Directory.Exists(reused));
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "process environment";
}
