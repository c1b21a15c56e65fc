using Dapper;
using Rapid.Cli.Engine;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;
using Xunit.Abstractions;

namespace Rapid.Cli.Tests.Faults;

/// <summary>
/// The fault suite's redelivered manifests: after post-processing stamped the night's products, every manifest of the
/// night is registered again (an SQS redelivery, a dead-letter redrive, a retried Register λ, an overlapping run), once
/// and twice at the same time. Nothing may change: no stamped product reverts, nothing is duplicated.
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class ReRegistrationFaultTests(EmbeddedDatabaseFixture fixture, ITestOutputHelper output)
{
    private const string ProcDate = "20280910";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Every_manifest_registered_again_after_post_processing_changes_nothing(int atOnce)
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 6, seed: 73 + atOnce);
        var first = await survey.Workflow().Create().RunAsync(survey.LastNight(ProcDate), SilentObserver.Instance);
        Assert.Equal(0, first.FailedJobs);
        var store = survey.Home.OpenStore();
        var before = await NightState.MeasureAsync(survey.Database, store);
        Assert.True(before.Survived, before.ToString());
        string Snapshot(IEnumerable<(long, string, string)> rows) => string.Join('\n', rows);
        async Task<string> ProductsAsync()
        {
            await using var conn = await survey.Database.OpenConnectionAsync();
            return Snapshot(await conn.QueryAsync<(long, string, string)>("""
                select jid, role, filename || ' ' || md5 from jobproducts
                union all select jid, 'diffimage row', filename || ' ' || checksum || ' v' || version || ' b' || vbest from diffimages
                union all select jid, 'refimage row', filename || ' ' || checksum || ' v' || version || ' b' || vbest from refimages
                union all select jid, 'recovery row', filename || ' ' || checksum from recoveryjobs
                order by 1, 2
                """));
        }
        var products = await ProductsAsync();

        List<(long Jid, ObjectRef Manifest)> manifests;
        await using (var conn = await survey.Database.OpenConnectionAsync())
            manifests = (await conn.QueryAsync<(long, string)>("select jid, manifest_key from jobs order by jid"))
                .Select(j => (j.Item1, ObjectRef.Parse(j.Item2))).ToList();
        var register = new RegisterCompletedJobs(survey.Database, store, new ObjectKeys(Buckets.Default));
        await Task.WhenAll(Enumerable.Range(0, atOnce).Select(_ => register.RegisterAsync(manifests)));

        var after = await NightState.MeasureAsync(survey.Database, store);
        output.WriteLine($"every manifest registered again ({atOnce} at once): {after}");
        Assert.True(after.Survived, after.ToString());
        Assert.Equal(products, await ProductsAsync());

        // The next run of the night finds nothing to redo, and post-processing is not planned again as if never done.
        var again = await survey.Workflow().Create().RunAsync(survey.LastNight(ProcDate), SilentObserver.Instance);
        Assert.Equal(0, again.PlannedJobs);
        Assert.Equal(products, await ProductsAsync());
    }
}
