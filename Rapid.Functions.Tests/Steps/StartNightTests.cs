using Dapper;
using Rapid.Core.Jobs;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Steps;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

/// <summary>
/// Scheduled runs on a fixed clock: consecutive windows meet exactly (no gap, no overlap) across daylight-saving
/// changes, late arrivals are planned by the next run, an unfinished run is resumed, explicit windows still work.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class StartNightTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private static readonly TimeZoneInfo LosAngeles = TimeZoneInfo.FindSystemTimeZoneById(ProcessingDate.DefaultTimeZone);
    private OpsWorld _w = null!;

    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static DateTime Local(int y, int m, int d, int h, int min) =>
        TimeZoneInfo.ConvertTimeToUtc(new DateTime(y, m, d, h, min, 0, DateTimeKind.Unspecified), LosAngeles);

    private async Task<IReadOnlyList<long>> IngestAtAsync(IEnumerable<DateTime> times) =>
        (await _w.Ingest.RegisterAsync(times.Select((t, i) => _w.Image(10, -30, t) with
        {
            DateObs = t, MjdObs = 40587.0 + (t - DateTime.UnixEpoch).TotalDays, File = _w.Keys.L2File($"sim/at/{t:yyyyMMddHHmmss}_{i}.fits"),
        }).ToList())).Select(r => r.Rid).ToList();

    /// <summary>One scheduled run at <paramref name="now"/>: begin the night, plan its science jobs, end it (or not).</summary>
    private async Task<(NightStart Night, HashSet<long> Planned)> ScheduledRunAsync(DateTime now, bool finish = true, string? procDate = null)
    {
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var night = await new StartNight(new ResolveWindow(new FixedClock(new DateTimeOffset(now))))
            .StartAsync(conn, new WindowRequest(ProcDate: procDate), "test run", TimeSpan.FromHours(1));
        await new PlanScienceJobs(_w.DataSource, _w.Store, _w.Keys, _w.Options with { Scheduled = true }).PlanAsync(night.Selection, night.Night.ProcDate);
        if (finish) await StartNight.FinishAsync(conn, night, completed: true);
        var planned = (await conn.QueryAsync<long>("select rid from jobs where ppid = 15 and procdate = @d", new { d = night.Night.ProcDate.Date })).ToHashSet();
        return (night, planned);
    }

    [Theory]
    // Daylight saving ends on Sunday 2028-11-05 (01:00-02:00 happens twice), and starts on Sunday 2029-03-11 (02:00-03:00 never happens).
    [InlineData(2028, 11, 1)]
    [InlineData(2029, 3, 7)]
    public async Task Consecutive_scheduled_runs_leave_no_gap_and_no_overlap_across_a_daylight_saving_change(int y, int m, int d)
    {
        var first = new DateOnly(y, m, d);
        var runs = Enumerable.Range(0, 8).Select(i => first.AddDays(i)).Select(day => Local(day.Year, day.Month, day.Day, 8, 30)).ToList();
        // Images every 2 hours from two days before the first run to a day after the last, plus the morning hours the old
        // noon-to-noon default never processed (08:45, 11:30) and both 01:30s of the night the clocks go back.
        var times = Enumerable.Range(0, 12 * 11).Select(i => runs[0].AddDays(-2).AddHours(2 * i).AddMinutes(7))
            .Concat(runs.SelectMany(r => new[] { r.AddMinutes(15), r.AddHours(3) }))
            .Append(new DateTime(2028, 11, 5, 8, 30, 0, DateTimeKind.Utc)).Append(new DateTime(2028, 11, 5, 9, 30, 0, DateTimeKind.Utc))
            .Distinct().ToList();
        var rids = (await IngestAtAsync(times)).Zip(times).ToDictionary(x => x.First, x => x.Second);

        var nights = new List<(NightStart Night, HashSet<long> Planned)>();
        foreach (var now in runs) nights.Add(await ScheduledRunAsync(now));

        for (var i = 0; i < nights.Count; i++)
        {
            var w = nights[i].Night.Night;
            Assert.True(w.Scheduled);
            Assert.Equal(runs[i], w.Window.End);
            Assert.Equal(ProcessingDate.At(new DateTimeOffset(runs[i])), w.ProcDate);
            if (i > 0) Assert.Equal(nights[i - 1].Night.Night.Window.End, w.Window.Start); // no gap, no overlap
        }
        // Every image observed from the first window's start to the last cutoff is planned by exactly one run, in the
        // run whose window holds its DATE-OBS; nothing before the first window (history) or after the last cutoff is.
        var plannedBy = nights.SelectMany((n, i) => n.Planned.Select(rid => (rid, i))).ToList();
        Assert.Equal(plannedBy.Count, plannedBy.Select(p => p.rid).Distinct().Count());
        var coverage = new ObservationWindow(nights[0].Night.Night.Window.Start, runs[^1]);
        var expected = rids.Where(kv => kv.Value >= coverage.Start && kv.Value < coverage.End).Select(kv => kv.Key).Order().ToList();
        Assert.Equal(expected, plannedBy.Select(p => p.rid).Order().ToList());
        Assert.All(plannedBy, p =>
        {
            var window = nights[p.i].Night.Night.Window;
            Assert.InRange(rids[p.rid], window.Start, window.End.AddTicks(-1));
        });
        // The first window is the local day before the first run; the day the clocks change lasts 23 or 25 hours.
        var hours = nights.Select(n => (n.Night.Night.Window.End - n.Night.Night.Window.Start).TotalHours).ToList();
        Assert.Contains(m == 11 ? 25.0 : 23.0, hours);
        Assert.All(hours, h => Assert.Contains(h, new[] { 23.0, 24.0, 25.0 }));
    }

    [Fact]
    public async Task An_image_registered_after_its_window_was_processed_is_planned_by_the_next_run()
    {
        var run1 = Local(2028, 9, 8, 8, 30);
        await IngestAtAsync([run1.AddHours(-5)]);
        var (night1, planned1) = await ScheduledRunAsync(run1);
        Assert.Single(planned1);

        // Observed during the first window, registered only after it ran (a late downlink).
        var late = run1.AddHours(-2);
        var lateRid = (await IngestAtAsync([late]))[0];
        // And one observed before scheduled runs began: history, which no scheduled run takes.
        await IngestAtAsync([night1.Night.Window.Start.AddDays(-3)]);

        var (night2, planned2) = await ScheduledRunAsync(run1.AddDays(1));
        Assert.Equal(night1.Night.Window.End, night2.Night.Window.Start);
        Assert.Equal(late, night2.LateFrom);
        Assert.Equal(late, night2.Selection.Start);
        Assert.Equal([lateRid], planned2);
    }

    [Fact]
    public async Task A_scheduled_run_that_did_not_end_is_resumed_by_the_next_one_on_its_processing_date()
    {
        var run1 = Local(2028, 9, 8, 8, 30);
        var rids = await IngestAtAsync([run1.AddHours(-5), run1.AddHours(-4)]);
        var (crashed, planned1) = await ScheduledRunAsync(run1, finish: false);
        Assert.Equal(rids.Order(), planned1.Order());
        // Its lease ended with the run (here: released); its window stays unfinished.
        await using (var conn = await _w.DataSource.OpenConnectionAsync())
            await RunLeases.ReleaseAsync(conn, crashed.Lease.ProcDate, crashed.Lease.Token);

        var newer = (await IngestAtAsync([run1.AddHours(20)]))[0];
        var (resumed, planned2) = await ScheduledRunAsync(run1.AddDays(1));
        Assert.True(resumed.Resumed);
        Assert.Equal(crashed.Night.ProcDate, resumed.Night.ProcDate);
        Assert.Equal(crashed.Night.Window.Start, resumed.Night.Window.Start);
        Assert.Equal(run1.AddDays(1), resumed.Night.Window.End);
        // The crashed run's jobs are planned again on the same date (no job left open), with the image registered since.
        Assert.Equal(rids.Append(newer).Order(), planned2.Order());
        await using var check = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<int>("select count(*) from nightwindows"));

        var (next, _) = await ScheduledRunAsync(run1.AddDays(2));
        Assert.False(next.Resumed);
        Assert.Equal(resumed.Night.Window.End, next.Night.Window.Start);
    }

    [Fact]
    public async Task Resuming_under_another_processing_date_is_refused_naming_the_unfinished_one()
    {
        var run1 = Local(2028, 9, 8, 8, 30);
        var (crashed, _) = await ScheduledRunAsync(run1, finish: false);
        await using (var conn = await _w.DataSource.OpenConnectionAsync())
            await RunLeases.ReleaseAsync(conn, crashed.Lease.ProcDate, crashed.Lease.Token);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => ScheduledRunAsync(run1.AddDays(1), procDate: "20280909"));
        Assert.Contains("20280908", e.Message);
        Assert.Contains("did not end", e.Message);
    }

    [Fact]
    public async Task An_explicit_window_leaves_the_watermark_alone_and_its_images_are_not_planned_again()
    {
        var run1 = Local(2028, 9, 8, 8, 30);
        var (night1, _) = await ScheduledRunAsync(run1);
        var explicitRids = await IngestAtAsync([run1.AddHours(2), run1.AddHours(3)]);
        var other = (await IngestAtAsync([run1.AddHours(4)]))[0];

        await using (var conn = await _w.DataSource.OpenConnectionAsync())
        {
            var request = new WindowRequest(ObservationWindow.Format(run1.AddHours(1)), ObservationWindow.Format(run1.AddHours(3.5)), "20280920");
            var night = await new StartNight(new ResolveWindow()).StartAsync(conn, request, "operator", TimeSpan.FromHours(1));
            Assert.False(night.Night.Scheduled);
            await new PlanScienceJobs(_w.DataSource, _w.Store, _w.Keys, _w.Options).PlanAsync(night.Selection, night.Night.ProcDate);
            await StartNight.FinishAsync(conn, night, completed: true);
            Assert.Equal(explicitRids.Order(), (await conn.QueryAsync<long>("select rid from jobs where procdate = '2028-09-20'")).Order());
        }

        var (night2, planned2) = await ScheduledRunAsync(run1.AddDays(1));
        Assert.Equal(night1.Night.Window.End, night2.Night.Window.Start);
        Assert.Equal([other], planned2);
    }

    [Fact]
    public async Task A_clock_behind_the_watermark_is_refused_instead_of_making_an_empty_or_inverted_window()
    {
        var run1 = Local(2028, 9, 8, 8, 30);
        await ScheduledRunAsync(run1);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ScheduledRunAsync(run1.AddMinutes(-1)));
        Assert.Contains("clock", e.Message);
    }
}
