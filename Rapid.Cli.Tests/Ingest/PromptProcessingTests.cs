using System.Text;
using Dapper;
using Rapid.Cli.Engine;
using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Ingest;

/// <summary>
/// Prompt processing takes exactly the landed image: another SCA of the same exposure (the same DATE-OBS to the second),
/// registered and waiting, is neither processed nor taken off <c>l2pending</c> by it; and an image processed once is not
/// processed again (per image version), on any processing date.
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class PromptProcessingTests(EmbeddedDatabaseFixture fixture)
{
    [Fact]
    public async Task A_landed_image_is_processed_alone_and_once_leaving_the_other_sca_of_its_exposure_pending()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, seed: 37);
        var last = survey.Survey.Images.OrderBy(i => i.DateObsUtc).Last();
        var landing = Directory.CreateDirectory(Path.Combine(survey.Home.Path, "landing")).FullName;
        var otherSca = Path.Combine(landing, "sca2.fits");
        File.Copy(last.Path, otherSca);
        SetSca(otherSca, 2);
        using (var ingest = RapidProcess.Start("ingest", otherSca, "--db", survey.OwnerConnectionString, "--home", survey.Home.Path))
            Assert.True(await ingest.WaitForExitAsync(TimeSpan.FromMinutes(2)) == 0, ingest.Error);
        long rid, other;
        await using (var conn = await survey.Database.OpenConnectionAsync())
        {
            var exposure = (await conn.QueryAsync<(long Rid, short Sca, long Expid)>(
                "select rid, sca, expid from l2files where dateobs = (select max(dateobs) from l2files) order by sca")).ToList();
            Assert.Equal(2, exposure.Count);
            Assert.Equal(exposure[0].Expid, exposure[1].Expid);
            (rid, other) = (exposure[0].Rid, exposure[1].Rid);
        }
        var prompt = new PromptProcessing(survey.Workflow());

        var outcome = await prompt.ProcessAsync(rid, "20280904");

        Assert.False(outcome.AlreadyProcessed);
        Assert.True(outcome.DiffImage is not null, $"job {outcome.Jid} exit {outcome.ExitCode}: {outcome.Reason}");
        await using (var conn = await survey.Database.OpenConnectionAsync())
        {
            Assert.Equal([rid], await conn.QueryAsync<long>("select rid from jobs where ppid = 15"));
            Assert.Equal([other], await conn.QueryAsync<long>("select rid from l2pending where rid = any(@rids)", new { rids = new[] { rid, other } }));
        }

        // Landed again (a watch restarted, a submission repeated), on another processing date: nothing runs.
        var again = await prompt.ProcessAsync(rid, "20280905");

        Assert.True(again.AlreadyProcessed);
        Assert.Equal((outcome.Jid, outcome.ProcDate, outcome.DiffImage), (again.Jid, again.ProcDate, again.DiffImage));
        await using (var conn = await survey.Database.OpenConnectionAsync())
        {
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from jobs where ppid = 15"));
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from jobattempts where jid = @jid", new { jid = outcome.Jid }));
        }
    }

    /// <summary>Rewrites every header's SCA_NUM card in place (80-byte cards, the same length): another detector of the exposure.</summary>
    private static void SetSca(string path, int sca)
    {
        var bytes = File.ReadAllBytes(path);
        var card = Encoding.ASCII.GetBytes($"SCA_NUM = {sca,20}".PadRight(80));
        var cards = Enumerable.Range(0, bytes.Length / 80).Select(i => i * 80).Where(o => bytes.AsSpan(o, 10).SequenceEqual("SCA_NUM = "u8)).ToList();
        Assert.NotEmpty(cards);
        foreach (var offset in cards) card.CopyTo(bytes, offset);
        File.WriteAllBytes(path, bytes);
    }
}
