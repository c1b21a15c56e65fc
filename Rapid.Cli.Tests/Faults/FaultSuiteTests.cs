using System.Diagnostics;
using System.Runtime.InteropServices;
using Dapper;
using Npgsql;
using Rapid.Cli.Commands;
using Rapid.Cli.Engine;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Xunit.Abstractions;

namespace Rapid.Cli.Tests.Faults;

/// <summary>
/// The fault suite: each test injects one fault into a tiny night (real simulator, PostgreSQL, pipeline processes)
/// and measures the end state from the database and the store (<see cref="NightState"/>), after the faulted run and,
/// where the fault leaves work undone, after the night is run again: no duplicate rows per natural key, exactly one
/// best per key, no job left open, every registered file matching its checksum, no stamped product reverted, no lineage
/// row naming a file that is not recorded.
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class FaultSuiteTests(EmbeddedDatabaseFixture fixture, ITestOutputHelper output)
{
    private const string ProcDate = "20280910";

    private async Task<NightState> MeasureAsync(TinySurvey survey, string when)
    {
        var state = await NightState.MeasureAsync(survey.Database, survey.Home.OpenStore());
        output.WriteLine($"{when}: {state}");
        return state;
    }

    /// <summary>The night run again (same window and date): what an operator does after a fault.</summary>
    private async Task<NightState> RerunAsync(TinySurvey survey)
    {
        var report = await survey.Workflow().Create().RunAsync(survey.LastNight(ProcDate), SilentObserver.Instance);
        Assert.Equal(0, report.FailedJobs);
        return await MeasureAsync(survey, "after the re-run");
    }

    private static void AssertSurvived(NightState state, int differenceImages)
    {
        Assert.True(state.Survived, state.ToString());
        Assert.Equal(differenceImages, state.DifferenceImages);
    }

    private static async Task<short> PpidOfAsync(TinySurvey survey, long jid)
    {
        await using var conn = await survey.Database.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<short>("select ppid from jobs where jid = @jid", new { jid });
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>SIGSTOP (19 on Linux) sent at once.</summary>
    private static int Stop(int pid) => SendSignal(pid, 19);

    private static void Kill(int pid, string signal = "KILL")
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString()])!;
        kill.WaitForExit();
    }

    public enum KillPoint { ReferenceAtStart, ScienceWhileComputing, ScienceAfterProductsBeforeManifest, PostProcessingAtStart }

    [Theory]
    [InlineData(KillPoint.ReferenceAtStart)]
    [InlineData(KillPoint.ScienceWhileComputing)]
    [InlineData(KillPoint.ScienceAfterProductsBeforeManifest)]
    [InlineData(KillPoint.PostProcessingAtStart)]
    public async Task A_job_killed_by_a_signal_is_closed_as_lost_and_the_re_run_completes_the_night(KillPoint point)
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 6, seed: 43);
        var workflow = survey.Workflow();
        var executor = workflow.CreateExecutor();
        var keys = new ObjectKeys(Buckets.Default);
        var store = survey.Home.OpenStore();
        var killed = new List<long>();
        var missed = new List<string>();
        var watchers = new List<Task>();
        executor.ChildStarted += (jid, pid) => watchers.Add(Task.Run(async () =>
        {
            var ppid = await PpidOfAsync(survey, jid);
            lock (killed) if (killed.Count > 0) return;
            switch (point)
            {
                case KillPoint.ReferenceAtStart when ppid == 12:
                case KillPoint.PostProcessingAtStart when ppid == 17:
                    break;
                case KillPoint.ScienceWhileComputing when ppid == 15:
                    await Task.Delay(300);
                    break;
                case KillPoint.ScienceAfterProductsBeforeManifest when ppid == 15:
                    // Its difference image is written in its work directory: the products are being written and uploaded.
                    var clock = Stopwatch.StartNew();
                    while (!Directory.EnumerateFiles(survey.Home.WorkRoot, "diffimage.fits", SearchOption.AllDirectories).Any())
                    {
                        if (clock.Elapsed > TimeSpan.FromMinutes(2)) { lock (missed) missed.Add("no difference image within 2 minutes"); return; }
                        await Task.Delay(2);
                    }
                    // Stopped by the kill(2) system call itself: forking /bin/kill took milliseconds, long enough for a job that
                    // writes and uploads its products side by side to write its manifest first.
                    if (Stop(pid) != 0) lock (missed) missed.Add($"job {jid} could not be stopped (errno {Marshal.GetLastPInvokeError()})");
                    if (File.Exists(store.PathOf(keys.Manifest(ProcessingDate.Parse(ProcDate), jid))))
                        lock (missed) missed.Add($"job {jid} had already written its manifest");
                    break;
                default:
                    return;
            }
            lock (killed) killed.Add(jid);
            Kill(pid);
        }));

        var faulted = await workflow.Create(executor).RunAsync(survey.LastNight(ProcDate), SilentObserver.Instance);
        await Task.WhenAll(watchers);

        Assert.Empty(missed);
        var jid = Assert.Single(killed);
        await using (var conn = await survey.Database.OpenConnectionAsync())
        {
            var job = await conn.QuerySingleAsync<(int Status, int ExitCode, string Reason)>("select status::int, exitcode, reason from jobs where jid = @jid", new { jid });
            Assert.Equal((1, ExitCodes.Lost), (job.Status, job.ExitCode));
            Assert.Contains("killed by signal 9", job.Reason);
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from diffimages where jid = @jid", new { jid }));
        }
        Assert.True(faulted.FailedJobs >= 1);
        var after = await MeasureAsync(survey, $"after {point}");
        Assert.Equal((0, 0, 0, 0, 0), (after.OpenJobs, after.DuplicateKeys, after.ChecksumMismatches, after.RevertedStamps, after.DanglingLineage));

        AssertSurvived(await RerunAsync(survey), differenceImages: 1);
    }

    [Fact]
    public async Task The_run_process_killed_mid_stage_leaves_no_orphan_job_and_its_re_run_completes_the_night()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 6, fields: 2, seed: 47);
        var night = survey.LastNight(ProcDate);
        int job;
        using (var rapid = RapidProcess.Start("run", "--start", night.StartDateTime!, "--end", night.EndDateTime!, "--procdate", ProcDate,
                   "--db", survey.OwnerConnectionString, "--home", survey.Home.Path, "--parallel", "2",
                   "--reference-grid", TinySurvey.ReferenceGrid.ToString()))
        {
            job = await rapid.WaitForPipelineChildAsync(TimeSpan.FromMinutes(3));
            rapid.Signal("KILL");
            Assert.Equal(137, await rapid.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        }
        // Its jobs end themselves (they watch their parent) instead of writing on under the keys the re-run writes.
        var clock = Stopwatch.StartNew();
        while (RapidProcess.IsAlive(job) && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(50);
        Assert.False(RapidProcess.IsAlive(job), $"job process {job} outlived the killed run");
        var after = await MeasureAsync(survey, "after the run process was killed");
        Assert.True(after.OpenJobs > 0, "the killed run left its stage's jobs open");

        // The lease died with the process's session: the re-run starts at once and closes every job.
        AssertSurvived(await RerunAsync(survey), differenceImages: 2);
        Assert.Empty(Directory.EnumerateFileSystemEntries(survey.Home.WorkRoot));
    }

    [Fact]
    public async Task PostgreSQL_stopped_in_the_middle_of_registration_loses_nothing_and_the_re_run_completes_the_night()
    {
        await using var survey = await TinySurvey.CreateWithOwnClusterAsync(epochs: 6, fields: 2, seed: 53);
        // Registration of the science stage is held half-way: the second job's row is locked by another session, so
        // its manifest's transaction waits inside the database (the first one may already have committed); then the
        // cluster is stopped under it.
        NpgsqlConnection? blocker = null;
        Task? stopping = null;
        var observer = new StageHook(WorkflowStage.RegisterScience, () =>
        {
            blocker = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(survey.Database.ConnectionString) { Pooling = false }.ConnectionString);
            blocker.Open();
            // Left open: the row stays locked until the server goes.
            var tx = blocker.BeginTransaction();
            blocker.Execute("select 1 from jobs where ppid = 15 order by jid desc limit 1 for update", transaction: tx);
            stopping = Task.Run(async () =>
            {
                // As the cluster's owner: the operations role may not see other sessions' wait events in pg_stat_activity.
                await using (var watch = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(survey.OwnerConnectionString) { Pooling = false }.ConnectionString))
                {
                    await watch.OpenAsync();
                    var clock = Stopwatch.StartNew();
                    while (await watch.ExecuteScalarAsync<int>("select count(*) from pg_stat_activity where wait_event_type = 'Lock'") == 0)
                    {
                        if (clock.Elapsed > TimeSpan.FromMinutes(1)) throw new TimeoutException("registration never waited on the locked job row");
                        await Task.Delay(20);
                    }
                }
                await survey.Home.StopDatabaseAsync();
            });
        });

        var e = await Assert.ThrowsAnyAsync<Exception>(() => survey.Workflow().Create().RunAsync(survey.LastNight(ProcDate), observer));
        await stopping!; // stopped during registration, not after the run gave up for another reason
        Assert.Equal(CommandErrors.DatabaseUnavailable, CommandErrors.Classify(e).Code);
        blocker?.Dispose();

        // The cluster comes back (the next command starts it); nothing half-registered.
        await survey.Home.ResolveConnectionStringAsync(null);
        survey.Database.Clear(); // its pooled connections died with the server
        var between = await MeasureAsync(survey, "after PostgreSQL stopped mid-registration");
        Assert.Equal((0, 0, 0, 0), (between.DuplicateKeys, between.ChecksumMismatches, between.RevertedStamps, between.DanglingLineage));
        AssertSurvived(await RerunAsync(survey), differenceImages: 2);
    }

    [Fact]
    public async Task Two_runs_started_together_on_a_stopped_cluster_one_runs_the_night_and_the_other_stops_naming_it()
    {
        await using var survey = await TinySurvey.CreateWithOwnClusterAsync(epochs: 6, seed: 59);
        survey.Database.Clear();
        await survey.Home.StopDatabaseAsync();
        var night = survey.LastNight(ProcDate);
        string[] Args() => ["run", "--start", night.StartDateTime!, "--end", night.EndDateTime!, "--procdate", ProcDate, "--home", survey.Home.Path,
            "--parallel", "2", "--reference-grid", TinySurvey.ReferenceGrid.ToString()];

        using var first = RapidProcess.Start(Args());
        using var second = RapidProcess.Start(Args());
        var codes = await Task.WhenAll(first.WaitForExitAsync(TimeSpan.FromMinutes(5)), second.WaitForExitAsync(TimeSpan.FromMinutes(5)));

        Assert.True(codes.Order().SequenceEqual([0, CommandErrors.RunInProgress]), $"exits {codes[0]} and {codes[1]}: {first.Error} | {second.Error}");
        var refused = codes[0] == CommandErrors.RunInProgress ? first : second;
        Assert.Contains($"processing date {ProcDate} is being run by rapid run (pid", refused.Error);
        AssertSurvived(await MeasureAsync(survey, "after two runs started together"), differenceImages: 1);
    }

    [Fact]
    public async Task A_second_run_started_while_the_first_runs_its_jobs_stops_without_touching_the_night()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 6, seed: 61);
        var night = survey.LastNight(ProcDate);
        string[] Args() => ["run", "--start", night.StartDateTime!, "--end", night.EndDateTime!, "--procdate", ProcDate,
            "--db", survey.OwnerConnectionString, "--home", survey.Home.Path, "--parallel", "2", "--reference-grid", TinySurvey.ReferenceGrid.ToString()];

        using var first = RapidProcess.Start(Args());
        await first.WaitForPipelineChildAsync(TimeSpan.FromMinutes(3));
        using var second = RapidProcess.Start(Args());
        Assert.Equal(CommandErrors.RunInProgress, await second.WaitForExitAsync(TimeSpan.FromMinutes(2)));
        Assert.Contains($"processing date {ProcDate} is being run by rapid run (pid {first.Id} ", second.Error);
        Assert.True(await first.WaitForExitAsync(TimeSpan.FromMinutes(5)) == 0, first.Error);

        var state = await MeasureAsync(survey, "after a staggered second run");
        AssertSurvived(state, differenceImages: 1);
        await using var conn = await survey.Database.OpenConnectionAsync();
        // Each stage ran once: one local array job per pipeline.
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>(
            "select count(*) from (select ppid from jobs group by ppid having count(distinct split_part(batch_job_id, ':', 1)) <> 1) p"));
    }

    [Fact]
    public async Task A_full_disk_fails_the_jobs_that_write_without_registering_anything_half_written_and_the_re_run_completes_the_night()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 6, seed: 67);
        // The products bucket on a file system of 64 KB: the first product a job uploads fills it.
        var products = Directory.CreateDirectory(Path.Combine(survey.Home.StoreRoot, Buckets.Default.Products)).FullName;
        using (var mount = Process.Start("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", products])!)
        {
            mount.WaitForExit();
            Assert.True(mount.ExitCode == 0, "mounting a small tmpfs needs root (./rapid test runs as root)");
        }
        try
        {
            var faulted = await survey.Workflow().Create().RunAsync(survey.LastNight(ProcDate), SilentObserver.Instance);
            Assert.True(faulted.FailedJobs > 0);
            var full = await MeasureAsync(survey, "with the disk full");
            Assert.Equal((0, 0, 0, 0), (full.OpenJobs, full.DuplicateKeys, full.ChecksumMismatches, full.ReferenceImages + full.DifferenceImages));
        }
        finally
        {
            using var umount = Process.Start("umount", ["-l", products])!;
            umount.WaitForExit();
        }
        AssertSurvived(await RerunAsync(survey), differenceImages: 1);
    }

    [Fact]
    public async Task A_corrupt_input_fails_its_job_alone_and_once_replaced_the_re_run_completes_the_night()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 6, seed: 71);
        var science = survey.Survey.Images.MaxBy(i => i.DateObsUtc)!;
        var good = await File.ReadAllBytesAsync(science.Path);
        await File.WriteAllTextAsync(science.Path, "SIMPLE  =                    T / but the rest is missing");

        var faulted = await survey.Workflow().Create().RunAsync(survey.LastNight(ProcDate), SilentObserver.Instance);
        Assert.Equal(1, faulted.FailedJobs);
        var state = await MeasureAsync(survey, "with a corrupt science image");
        Assert.Equal((0, 0, 0, 0, 0), (state.OpenJobs, state.DuplicateKeys, state.ChecksumMismatches, state.RevertedStamps, state.DifferenceImages));
        Assert.Equal(1, state.ReferenceImages); // the rest of the night went on

        await File.WriteAllBytesAsync(science.Path, good);
        AssertSurvived(await RerunAsync(survey), differenceImages: 1);
    }

    /// <summary>Runs an action when a stage starts (once).</summary>
    private sealed class StageHook(WorkflowStage stage, Action action) : IWorkflowObserver
    {
        private int _done;

        public void StageStarted(WorkflowStage s, int workItems)
        {
            if (s == stage && Interlocked.Exchange(ref _done, 1) == 0) action();
        }

        public void WorkItemDone(WorkflowStage s, ChildOutcome? outcome) { }
        public void StageFinished(WorkflowStage s, TimeSpan elapsed, string outcome) { }
    }
}
