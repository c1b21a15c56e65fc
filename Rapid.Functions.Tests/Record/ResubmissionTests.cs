using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Functions.Record;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Record;

/// <summary>The retry policy: which failed jobs are resubmitted, how often, after what wait; every attempt recorded.</summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class ResubmissionTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    private static readonly ResubmissionPolicy Policy = new() { BackoffSeconds = 5, BackoffRate = 3 };

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(200, -20));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 3);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg);
    }

    public async Task DisposeAsync() => await _w.DisposeAsync();

    private PlanResubmission Resubmit(ResubmissionPolicy? policy = null) => new(_w.DataSource, _w.Store, _w.Keys, _w.Options, policy ?? Policy);

    private async Task<List<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<T>(sql, args)).ToList();
    }

    [Fact]
    public async Task A_lost_job_is_resubmitted_with_growing_waits_until_it_had_its_attempts()
    {
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var jid = Assert.Single(await _w.ConfigsAsync(plan)).Jid;
        await _w.Register.RegisterJobListAsync(plan.JobList!);

        var rounds = new List<ResubmissionRound>();
        for (var round = 1; round <= 4; round++)
        {
            var r = await Resubmit().PlanAsync(plan, round);
            rounds.Add(r);
            if (r.Plan.JobList is { } list) Assert.Equal(1, (await _w.Register.RegisterJobListAsync(list)).Lost);
        }

        Assert.Equal([(1, 5.0), (1, 15.0), (0, 0.0), (0, 0.0)], rounds.Select(r => (r.Plan.ArraySize, r.WaitSeconds)));
        var attempts = await QueryAsync<(int Attempt, string Trigger, string State, int ExitCode, string JobList)>(
            "select attempt, trigger, state, exitcode, joblist from jobattempts where jid = @jid order by attempt", new { jid });
        Assert.Equal(
            [(1, AttemptTriggers.Plan, JobStates.Resubmitted, ExitCodes.Lost), (2, AttemptTriggers.Resubmit, JobStates.Resubmitted, ExitCodes.Lost),
                (3, AttemptTriggers.Resubmit, JobStates.Lost, ExitCodes.Lost)],
            attempts.Select(a => (a.Attempt, a.Trigger, a.State, a.ExitCode)));
        Assert.Equal(rounds[1].Plan.JobList!.ToString(), attempts[2].JobList);
        Assert.Equal(2L, (await QueryAsync<long>("select count(*) from files where kind = 'joblist' and uri <> @plan", new { plan = plan.JobList!.ToString() }))[0]);
    }

    [Fact]
    public async Task A_resubmitted_job_that_writes_no_new_manifest_is_lost_not_closed_again_by_the_failed_attempts_manifest()
    {
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var config = Assert.Single(await _w.ConfigsAsync(plan));
        var failed = await _w.RunManifestAsync(config, ExitCodes.Error, "unexpected error: IOException");
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid), failed);
        await _w.Register.RegisterJobListAsync(plan.JobList!);

        var round = await Resubmit().PlanAsync(plan, 1);
        Assert.Equal((short)0, (await QueryAsync<short>("select status from jobs where jid = @Jid", new { config.Jid }))[0]);
        var report = await _w.Register.RegisterJobListAsync(round.Plan.JobList!);

        Assert.Equal((0, 1), (report.Registered, report.Lost));
        Assert.Equal(ExitCodes.Lost, (await QueryAsync<int>("select exitcode from jobs where jid = @Jid", new { config.Jid }))[0]);
        Assert.Equal([ExitCodes.Error, ExitCodes.Lost], await QueryAsync<int>("select exitcode from jobattempts where jid = @Jid order by attempt", new { config.Jid }));
    }

    [Fact]
    public async Task Jobs_the_policy_does_not_cover_stay_closed()
    {
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var config = Assert.Single(await _w.ConfigsAsync(plan));
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid), await _w.RunManifestAsync(config, ExitCodes.InvalidInput, "not a FITS file"));
        await _w.Register.RegisterJobListAsync(plan.JobList!);

        Assert.Equal(0, (await Resubmit().PlanAsync(plan, 1)).Plan.ArraySize);
        Assert.Equal(0, (await Resubmit(Policy with { ExitCodes = new HashSet<int> { ExitCodes.InvalidInput }, MaxAttempts = 1 }).PlanAsync(plan, 1)).Plan.ArraySize);
        Assert.Equal(1, (await Resubmit(Policy with { ExitCodes = new HashSet<int> { ExitCodes.InvalidInput } }).PlanAsync(plan, 1)).Plan.ArraySize);
    }

    [Theory]
    [InlineData("RAPID_MAX_ATTEMPTS", "11", "max attempts 11")]
    [InlineData("RAPID_RETRY_EXIT_CODES", "64,x", "'x' is not an exit code")]
    [InlineData("RAPID_RETRY_EXIT_CODES", "65,71", "exit code 71")]
    [InlineData("RAPID_RETRY_BACKOFF_SECONDS", "-1", "back-off -1")]
    public void A_policy_from_the_environment_is_checked(string variable, string value, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => ResubmissionPolicy.FromEnvironment(n => n == variable ? value : null));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_default_policy_resubmits_errors_lost_jobs_and_failed_log_uploads_three_times()
    {
        var p = ResubmissionPolicy.FromEnvironment(_ => null);
        Assert.Equal([64, 66, 70], p.ExitCodes.Order());
        Assert.Equal((3, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)), (p.MaxAttempts, p.Backoff(1), p.Backoff(2)));
    }
}
