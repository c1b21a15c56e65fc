using Dapper;
using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Engine;

/// <summary>
/// SIGTERM and SIGINT sent to a real <c>rapid run</c> while its jobs run: the jobs are killed, closed with the
/// signal as reason, the lease is released, nothing is left in the work area, and the exit code says which signal.
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class InterruptionTests(EmbeddedDatabaseFixture fixture)
{
    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public async Task A_signal_kills_the_running_jobs_closes_them_with_the_reason_and_exits_128_plus_the_signal(string signal, int exit)
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, fields: 2, seed: 41);
        var night = survey.LastNight("20280910");
        using var rapid = RapidProcess.Start("run", "--start", night.StartDateTime!, "--end", night.EndDateTime!, "--procdate", "20280910",
            "--db", survey.OwnerConnectionString, "--home", survey.Home.Path, "--parallel", "1", "--reference-grid", TinySurvey.ReferenceGrid.ToString());
        var job = await rapid.WaitForPipelineChildAsync(TimeSpan.FromMinutes(3));
        RapidProcess.Freeze(job);

        rapid.Signal(signal);
        var code = await rapid.WaitForExitAsync(TimeSpan.FromMinutes(1));

        Assert.True(code == exit, $"exit {code}: {rapid.Error}");
        Assert.Contains($"SIG{signal} received", rapid.Error);
        Assert.False(RapidProcess.IsAlive(job), $"job process {job} outlived the run");
        await using var conn = await survey.Database.OpenConnectionAsync();
        var jobs = (await conn.QueryAsync<(int Status, int? ExitCode, string? Reason)>("select status::int, exitcode, reason from jobs")).ToList();
        Assert.Equal(2, jobs.Count); // the two reference jobs of the first stage; nothing later was planned
        Assert.All(jobs, j => Assert.True(j.Status == 1 && j.Reason!.Contains($"rapid run received SIG{signal}"), $"{j.Status} {j.ExitCode} {j.Reason}"));
        Assert.Contains(jobs, j => j.Reason!.Contains("the job was killed"));
        Assert.Contains(jobs, j => j.Reason!.Contains("not started"));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from runleases"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(survey.Home.WorkRoot));
    }
}
