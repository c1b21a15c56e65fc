using System.Text;
using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Functions.Record;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Record;

/// <summary>
/// The operations record a night leaves in the ops database: attempts planned and closed, their states and steps, the
/// files written and read, what each product derives from, QC matches of the logs.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class OperationsRecordTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    private IReadOnlyList<Rapid.Functions.Steps.L2FileRegistered> _earlier = [];
    private Rapid.Functions.Steps.L2FileRegistered _tonight = null!;

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(40, 10));
        _earlier = await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 4);
        _tonight = await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: 2);
    }

    public async Task DisposeAsync() => await _w.DisposeAsync();

    private async Task<List<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<T>(sql, args)).ToList();
    }

    /// <summary>References planned, run (co-adding 3 of the 4 planned inputs) and registered; then the science jobs against them.</summary>
    private async Task<(JobConfig Reference, JobConfig Science)> NightAsync(bool withLog = true)
    {
        var refPlan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var reference = Assert.Single(await _w.ConfigsAsync(refPlan));
        var coadded = reference.SpecAs<ReferenceImageSpec>().Inputs.Take(3).Select(i => i.Rid).ToList();
        await WriteRunAsync(reference, coadded);
        Assert.Empty((await _w.Register.RegisterJobListAsync(refPlan.JobList!)).Failures);
        var sciPlan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var science = Assert.Single(await _w.ConfigsAsync(sciPlan));
        await WriteRunAsync(science, log: withLog ? "2028-09-08T07:41:12.306Z terminating exit code 32 (degraded result)\n" : null);
        Assert.Empty((await _w.Register.RegisterJobListAsync(sciPlan.JobList!)).Failures);
        return (reference, science);
    }

    private async Task<ProductManifest> WriteRunAsync(JobConfig config, IReadOnlyList<long>? coadded = null, string? log = null)
    {
        var m = await _w.WriteSuccessManifestAsync(config, coadded: coadded);
        m = m with
        {
            Host = new HostInfo { Name = "ip-10-1-2-3", ProcessorCount = 4 },
            Resources = new JobResources { WallSeconds = 42, CpuSeconds = 71.5, PeakMemoryBytes = 2_500_000_000 },
            Software = SoftwareInfo.Parse("1.2.3+0123456789abcdef0123456789abcdef01234567"),
            Timeline =
            [
                new StepRecord("coadd", m.Started, m.Started.AddSeconds(30), 30, 55),
                new StepRecord("upload", m.Started.AddSeconds(30), m.Started.AddSeconds(41), 11, 12),
            ],
        };
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid), m);
        if (log is not null) await _w.Store.PutBytesAsync(_w.Keys.Log(OpsWorld.ProcDate, config.Jid), Encoding.UTF8.GetBytes(log));
        return m;
    }

    [Fact]
    public async Task A_plan_records_a_planned_attempt_per_job_the_files_it_wrote_and_what_each_job_will_read()
    {
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var config = Assert.Single(await _w.ConfigsAsync(plan));

        var attempt = Assert.Single(await QueryAsync<(int Attempt, string Trigger, string State, string JobList, int Index)>(
            "select attempt, trigger, state, joblist, arrayindex from jobattempts where jid = @Jid", new { config.Jid }));
        Assert.Equal((1, AttemptTriggers.Plan, JobStates.Planned, plan.JobList!.ToString(), 0), attempt);
        Assert.Equal([JobStates.Planned], await QueryAsync<string>("select state from jobstates where jid = @Jid", new { config.Jid }));
        var configKey = _w.Keys.JobConfig(OpsWorld.ProcDate, config.Jid);
        var written = await QueryAsync<(string Uri, string Kind, long Size)>(
            "select uri, kind, sizebytes from files where kind in ('config', 'joblist') order by kind, uri");
        Assert.Equal([(configKey.ToString(), FileKinds.Config, (await _w.Store.GetBytesAsync(configKey)).LongLength),
            (plan.JobList.ToString(), FileKinds.JobList, (await _w.Store.GetBytesAsync(plan.JobList)).LongLength)], written);
        var used = await QueryAsync<(string Role, long? Rid)>("""
            select u.role, f.rid from fileused u join files f using (fileid) where u.jid = @Jid and u.attempt = 1 order by f.rid nulls first
            """, new { config.Jid });
        Assert.Equal([(JobInputs.Config, (long?)null), .. _earlier.Select(e => (JobInputs.CoaddInput, (long?)e.Rid)).OrderBy(x => x.Item2)], used);

        // A re-plan is a new attempt; the first stays.
        var again = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        Assert.NotNull(again.JobList);
        Assert.Equal([1, 2], await QueryAsync<int>("select attempt from jobattempts where jid = @Jid order by attempt", new { config.Jid }));
    }

    [Fact]
    public async Task Registration_records_the_attempt_its_steps_and_states_and_the_files_it_wrote()
    {
        var (_, science) = await NightAsync();

        var a = Assert.Single(await QueryAsync<AttemptRow>("select * from attempts where jid = @Jid", new { science.Jid }));
        Assert.Equal((1, JobStates.Registered, 42.0, 71.5, 2_500_000_000L, "ip-10-1-2-3", 4, 0, 0), (a.Attempt, a.State, a.WallSeconds, a.CpuSeconds,
            a.PeakMemoryBytes, a.Host, a.Processors, a.ExitCode, a.ProcessExit));
        Assert.Equal(("1.2.3+0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567"), (a.Software, a.GitCommit));
        Assert.Equal(science.Settings.DetectionThresholdSigma,
            (await QueryAsync<double>("select (settings->>'detectionThresholdSigma')::float8 from jobattempts where jid = @Jid", new { science.Jid }))[0]);
        Assert.Equal(
            [("coadd", 30.0, 55.0), ("upload", 11.0, 12.0)],
            await QueryAsync<(string, double, double)>("select step, wallseconds, cpuseconds from attemptsteps where jid = @Jid order by seq", new { science.Jid }));
        Assert.Equal(
            [JobStates.Planned, JobStates.Running, JobStates.Uploaded, JobStates.Registered],
            await QueryAsync<string>("select state from jobstates where jid = @Jid order by job_state_rank(state)", new { science.Jid }));

        var files = await QueryAsync<(string Kind, string? Role, long? Size, string? Sha)>(
            "select kind, role, sizebytes, sha256 from files where jid = @Jid and attempt = 1 order by kind, role", new { science.Jid });
        Assert.Equal(["log", "manifest", "product", "product", "product"], files.Select(f => f.Kind));
        Assert.All(files, f => Assert.Matches("^[0-9a-f]{64}$", f.Sha));
        var manifestBytes = await _w.Store.GetBytesAsync(_w.Keys.Manifest(OpsWorld.ProcDate, science.Jid));
        Assert.Equal(manifestBytes.LongLength, files.Single(f => f.Kind == "manifest").Size);
    }

    [Fact]
    public async Task A_difference_image_derives_from_its_science_image_and_its_reference_and_that_from_the_L2_images_it_co_added()
    {
        var (reference, science) = await NightAsync();
        var coadded = reference.SpecAs<ReferenceImageSpec>().Inputs.Take(3).Select(i => i.Rid).Order().ToList();

        var pid = (await QueryAsync<long>("select pid from diffimages where jid = @Jid", new { science.Jid }))[0];
        // The query the README documents, as it is written there.
        var lineage = await QueryAsync<(string Kind, string? Role, string Uri, long? Rid, long? Jid, int? Ppid, string? Software, string? Commit, string? Config)>(
            ReadmeProvenanceQuery().Replace("d.pid = 12", "d.pid = @pid", StringComparison.Ordinal), new { pid });
        Assert.Equal([.. coadded.Append(_tonight.Rid).Order()], lineage.Where(l => l.Kind == FileKinds.L2).Select(l => l.Rid!.Value));
        // The 4th planned input was not co-added: it is used by the reference job, not an ancestor of its image.
        Assert.DoesNotContain(reference.SpecAs<ReferenceImageSpec>().Inputs[3].Rid, lineage.Select(l => l.Rid));
        Assert.Equal(["diffimage", "refimage", "refimage_cov", "refimage_uncert"], lineage.Where(l => l.Kind == FileKinds.Product).Select(l => l.Role).Order());
        Assert.All(lineage.Where(l => l.Kind == FileKinds.Product), l => Assert.Equal(
            ("1.2.3+0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567"), (l.Software, l.Commit)));
    }

    [Fact]
    public async Task A_stamped_copy_derives_from_the_product_it_stamped_and_marks_its_source_postprocessed()
    {
        var (_, science) = await NightAsync();
        var plan = await _w.PlanPostProc.PlanAsync(OpsWorld.ProcDate);
        var configs = await _w.ConfigsAsync(plan);
        foreach (var c in configs) await _w.WriteSuccessManifestAsync(c);
        Assert.Empty((await _w.Register.RegisterJobListAsync(plan.JobList!)).Failures);

        var pp = configs.Single(c => c.SpecAs<PostProcessingSpec>().SourceJid == science.Jid);
        var pairs = await QueryAsync<(string Child, string Parent)>("""
            select c.uri, p.uri from filederived d join files c on c.fileid = d.child join files p on p.fileid = d.parent
            where c.jid = @Jid order by c.uri
            """, new { pp.Jid });
        Assert.Equal(pp.SpecAs<PostProcessingSpec>().Products.Select(x => (x.Target.ToString(), x.Source.ToString())).OrderBy(x => x.Item1), pairs);
        Assert.Equal(JobStates.PostProcessed, (await QueryAsync<string>("select state from jobattempts where jid = @Jid", new { science.Jid }))[0]);
    }

    [Fact]
    public async Task A_lost_job_closes_its_attempt_as_lost_with_the_reason()
    {
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var config = Assert.Single(await _w.ConfigsAsync(plan));
        var report = await _w.Register.RegisterJobListAsync(plan.JobList!, new Dictionary<long, string> { [config.Jid] = "killed by signal 9" });
        Assert.Equal(1, report.Lost);

        var a = Assert.Single(await QueryAsync<(string State, int ExitCode, string Reason)>("select state, exitcode, reason from jobattempts where jid = @Jid", new { config.Jid }));
        Assert.Equal((JobStates.Lost, ExitCodes.Lost), (a.State, a.ExitCode));
        Assert.Contains("killed by signal 9", a.Reason);
    }

    [Fact]
    public async Task A_manifest_of_a_retry_by_Batch_is_a_new_attempt_of_the_same_submission()
    {
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var config = Assert.Single(await _w.ConfigsAsync(plan));
        var m = await WriteRunAsync(config);
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid), m with { Batch = new BatchRun { JobId = "b-1:0", Attempt = 2 } });
        Assert.Empty((await _w.Register.RegisterJobListAsync(plan.JobList!)).Failures);

        var attempts = await QueryAsync<(int Attempt, string Trigger, int BatchAttempt, string State, string JobList)>(
            "select attempt, trigger, batchattempt, state, joblist from jobattempts where jid = @Jid order by attempt", new { config.Jid });
        Assert.Equal([(1, AttemptTriggers.Plan, 1, JobStates.Planned, plan.JobList!.ToString()),
            (2, AttemptTriggers.BatchRetry, 2, JobStates.Registered, plan.JobList.ToString())], attempts);
    }

    [Fact]
    public async Task The_QC_patterns_matched_in_a_log_are_joinable_with_the_job_and_its_product()
    {
        var (_, science) = await NightAsync();

        var matches = await QueryAsync<(string Pattern, string Severity, int Line, long Pid)>("""
            select q.pattern, q.severity, q.line, d.pid from qclog q join diffimages d on d.jid = q.jid where q.jid = @Jid
            """, new { science.Jid });
        Assert.Equal(("degraded_exit", "warning", 1), (matches.Single().Pattern, matches.Single().Severity, matches.Single().Line));
    }

    [Fact]
    public async Task A_registration_without_a_log_records_no_log_and_no_QC_match()
    {
        var (_, science) = await NightAsync(withLog: false);
        Assert.Equal(0L, (await QueryAsync<long>("select count(*) from files where kind = 'log' and jid = @Jid", new { science.Jid }))[0]);
        Assert.Equal(0L, (await QueryAsync<long>("select count(*) from qcmatches"))[0]);
    }

    [Fact]
    public async Task A_name_written_again_with_other_content_keeps_its_earlier_row_as_overwritten()
    {
        await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        _w.Options = _w.Options with { TileNaxis1 = 600 };
        await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);

        var configs = await QueryAsync<(string Status, string? Reason)>("select status, statusreason from files where kind = 'config' order by fileid");
        Assert.Equal(["overwritten", "kept"], configs.Select(c => c.Status));
        Assert.Equal("written again with other content", configs[0].Reason);
    }

    [Fact]
    public async Task Provenance_names_a_product_by_pid_rfid_uri_or_file_name_and_walks_it_down_to_the_L2_images()
    {
        var (reference, science) = await NightAsync();
        var pid = (await QueryAsync<long>("select pid from diffimages where jid = @Jid", new { science.Jid }))[0];
        var rfid = (await QueryAsync<long>("select rfid from refimages where jid = @Jid", new { reference.Jid }))[0];
        var provenance = new Provenance(_w.DataSource);

        var tree = await provenance.TreeAsync($"pid:{pid}");
        Assert.Equal((pid, ProductRolesOf(tree)), (tree.File.Pid, "diffimage"));
        Assert.Equal((science.Jid, 15, "1.2.3+0123456789abcdef0123456789abcdef01234567"), (tree.MadeBy!.Jid, tree.MadeBy.Ppid, tree.MadeBy.Software));
        var science2 = Assert.Single(tree.DerivedFrom, n => n.File.Kind == FileKinds.L2);
        Assert.Equal((_tonight.Rid, (GeneratingAttempt?)null), (science2.File.Rid!.Value, science2.MadeBy));
        var refimage = Assert.Single(tree.DerivedFrom, n => n.File.Role == "refimage");
        Assert.Equal((rfid, reference.Jid), (refimage.File.Rfid!.Value, refimage.MadeBy!.Jid));
        Assert.Equal(reference.SpecAs<ReferenceImageSpec>().Inputs.Take(3).Select(i => i.Rid).Order(),
            refimage.DerivedFrom.Select(n => n.File.Rid!.Value).Order());

        Assert.Equal(refimage.File.FileId, (await provenance.TreeAsync($"rfid:{rfid}")).File.FileId);
        Assert.Equal(tree.File.FileId, (await provenance.TreeAsync(tree.File.Uri)).File.FileId);
        Assert.Equal(science2.File.FileId, (await provenance.TreeAsync($"rid:{_tonight.Rid}")).File.FileId);
        Assert.Contains("not in the file registry", (await Assert.ThrowsAsync<ArgumentException>(() => provenance.TreeAsync("pid:999999"))).Message);
        Assert.Equal(tree.File.FileId, (await provenance.TreeAsync("diffimage.fits")).File.FileId);
        Assert.Contains("names no file", (await Assert.ThrowsAsync<ArgumentException>(() => provenance.TreeAsync("pid:x"))).Message);
    }

    /// <summary>The SQL block after the README's <c>provenance-query</c> marker.</summary>
    private static string ReadmeProvenanceQuery()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "README.md"))) dir = dir.Parent;
        var readme = File.ReadAllText(Path.Combine(dir!.FullName, "README.md"));
        var block = readme[readme.IndexOf("<!-- provenance-query -->", StringComparison.Ordinal)..];
        var start = block.IndexOf("```sql", StringComparison.Ordinal) + "```sql".Length;
        return block[start..block.IndexOf("```", start, StringComparison.Ordinal)].Trim().TrimEnd(';');
    }

    private static string ProductRolesOf(ProvenanceNode n) => n.File.Role ?? n.File.Kind;

    [Fact]
    public async Task A_run_groups_its_attempts_and_files_under_its_tag()
    {
        Assert.Throws<ArgumentException>(() => Runs.CheckTag("bad tag!"));
        long runId;
        await using (var conn = await _w.DataSource.OpenConnectionAsync())
            runId = await Runs.BeginAsync(conn, new RunStart(OpsWorld.ProcDate, "campaign-1", OpsWorld.Window, Runs.Embedded, Host: "here"));
        _w.Options = _w.Options with { RunId = runId };
        await NightAsync();
        await using (var conn = await _w.DataSource.OpenConnectionAsync())
            await Runs.EndAsync(conn, runId, RunStatuses.Succeeded);

        var run = Assert.Single(await Runs.ListAsync(_w.DataSource, tag: "campaign-1"));
        Assert.Equal((runId, RunStatuses.Succeeded, 2, 2, 0, 0), (run.RunId, run.Status, run.Jobs, run.Attempts, run.Resubmitted, run.Failed));
        // Both jobs' configs and lists, and each attempt's products, log (the science job's) and manifest.
        Assert.Equal(2 + 2 + 4 + 1 + 3 + 1 + 1, run.Files);
        Assert.Empty(await Runs.ListAsync(_w.DataSource, tag: "other"));
        Assert.Equal("{\"jobs\": 2, \"errors\": 0, \"attempts\": 2, \"resubmitted\": 0}",
            (await QueryAsync<string>("select summary::text from runs where runid = @runId", new { runId }))[0]);
    }

    private sealed record AttemptRow
    {
        public long Jid { get; init; }
        public int Attempt { get; init; }
        public string State { get; init; } = "";
        public double? WallSeconds { get; init; }
        public double? CpuSeconds { get; init; }
        public long? PeakMemoryBytes { get; init; }
        public string? Host { get; init; }
        public int? Processors { get; init; }
        public int? ExitCode { get; init; }
        public int? ProcessExit { get; init; }
        public string? Software { get; init; }
        public string? GitCommit { get; init; }
    }
}
