using Dapper;
using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Commands;

/// <summary>
/// <c>rapid submit reference</c> as an operator runs it, a real process on a tiny survey: the tile's reference made from the
/// images observed before the processing date and post-processed; submitted again later, a new version, best; with too few
/// earlier images, exit 5 saying why, and nothing registered.
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class SubmitCommandRunTests(EmbeddedDatabaseFixture fixture)
{
    [Fact]
    public async Task A_submitted_reference_is_made_then_made_again_as_a_new_best_version_and_refused_work_says_why()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, seed: 41);
        long field;
        await using (var conn = await survey.Database.OpenConnectionAsync())
            field = await conn.ExecuteScalarAsync<long>("select field from l2files limit 1");
        async Task<(int Code, string Output, string Error)> SubmitAsync(string procDate)
        {
            using var rapid = RapidProcess.Start("submit", "reference", $"field={field}", "filter=H158", $"procdate={procDate}", "--tag", "ref-test",
                "--db", survey.OwnerConnectionString, "--home", survey.Home.Path, "--parallel", "1", "--reference-grid", TinySurvey.ReferenceGrid.ToString());
            return (await rapid.WaitForExitAsync(TimeSpan.FromMinutes(5)), rapid.Output, rapid.Error);
        }

        var tooEarly = await SubmitAsync("20280902"); // one image observed before it
        var first = await SubmitAsync("20280904");
        var second = await SubmitAsync("20280905");

        Assert.True(tooEarly.Code == 5, $"{tooEarly.Code}: {tooEarly.Output} {tooEarly.Error}");
        Assert.Contains("Submission 1 (reference) failed: no reference was planned", tooEarly.Output);
        Assert.Contains("fewer than 3", tooEarly.Output);
        Assert.True(first.Code == 0, $"{first.Code}: {first.Output} {first.Error}");
        Assert.Contains("Submission 2 (reference) succeeded: job", first.Output);
        Assert.True(second.Code == 0, $"{second.Code}: {second.Output} {second.Error}");
        await using (var conn = await survey.Database.OpenConnectionAsync())
        {
            var versions = (await conn.QueryAsync<(int Version, int Vbest, string FileName, int Inputs)>("""
                select r.version, r.vbest::int, r.filename, (select count(*)::int from refimimages i where i.rfid = r.rfid)
                from refimages r where r.field = @field order by r.version
                """, new { field })).ToList();
            Assert.Equal([(1, 0, 3), (2, 1, 4)], versions.Select(v => (v.Version, v.Vbest, v.Inputs)));
            Assert.All(versions, v => Assert.Contains($"_ppid12_v{v.Version}_", v.FileName)); // post-processed: stamped, canonical names
            Assert.Equal(["failed", "succeeded", "succeeded"], await conn.QueryAsync<string>("select state from submissions order by subid"));
            Assert.Equal(3, await conn.ExecuteScalarAsync<int>("select count(*) from submissions s join runs r on r.runid = s.runid where r.tag = 'ref-test'"));
        }
    }
}
