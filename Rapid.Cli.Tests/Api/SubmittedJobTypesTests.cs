using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using Rapid.Cli.Engine;
using Rapid.Cli.Tests.Support;
using Rapid.Functions.Steps;
using Rapid.Core.Storage;
using static Rapid.Cli.Tests.Api.ServeCommandTests;

namespace Rapid.Cli.Tests.Api;

/// <summary>
/// Every job type submitted to a real <c>rapid serve</c> over HTTP and watched to its final state: a night's pending
/// post-processing, its recovery job, a new version of a reference, a science image against it (then the same image again:
/// nothing runs twice), and a user's own diff; each with its pipeline jobs, products (links that serve the stored bytes),
/// log, and the software version and git commit of every job and product.
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed partial class SubmittedJobTypesTests(EmbeddedDatabaseFixture fixture)
{
    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Each_job_type_submitted_over_http_runs_to_its_final_state_with_its_jobs_products_log_and_software()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 5, seed: 31);
        // The night of 2028-09-04 (its reference from the three nights before, then its science job), left without
        // post-processing: a night whose last stages did not run.
        await survey.Workflow().Create(stages: NightStages.References | NightStages.Science)
            .RunAsync(new WindowRequest("2028-09-04 00:00:00", "2028-09-05 00:00:00", "20280904"), SilentObserver.Instance);
        long field, lastRid;
        await using (var conn = await survey.Database.OpenConnectionAsync())
        {
            field = await conn.ExecuteScalarAsync<long>("select field from l2files limit 1");
            lastRid = await conn.ExecuteScalarAsync<long>("select rid from l2files order by dateobs desc limit 1");
        }

        var port = FreePort();
        using var rapid = RapidProcess.Start("serve", "--listen", $"http://127.0.0.1:{port}", "--db", survey.OwnerConnectionString, "--home", survey.Home.Path,
            "--parallel", "1", "--reference-grid", TinySurvey.ReferenceGrid.ToString());
        await rapid.WaitUntilAsync(() => rapid.Output.Contains("Serving"), TimeSpan.FromMinutes(1));
        var bearer = "Bearer " + (await File.ReadAllTextAsync(Path.Combine(survey.Home.Path, "api-token"))).Trim();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var store = survey.Home.OpenStore();

        async Task<System.Text.Json.JsonElement> RunAsync(string body)
        {
            var accepted = await Json(await Post(http, bearer, body), HttpStatusCode.Accepted);
            var job = await FinalStateAsync(http, bearer, accepted.GetProperty("id").GetInt64(), rapid);
            Assert.True(job.GetProperty("state").GetString() == "succeeded", job.ToString());
            return job;
        }
        async Task<byte[]> GetAsync(string href)
        {
            var response = await Send(http, HttpMethod.Get, href, bearer);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{href}: {response.StatusCode}");
            return await response.Content.ReadAsByteArrayAsync();
        }
        async Task ProductsServeTheStoredFilesAsync(System.Text.Json.JsonElement job)
        {
            foreach (var product in job.GetProperty("products").EnumerateArray())
            {
                var uri = product.GetProperty("uri").GetString()!;
                var path = uri.StartsWith("file:", StringComparison.Ordinal) ? new Uri(uri).LocalPath : store.PathOf(ObjectRef.Parse(uri));
                Assert.Equal(await File.ReadAllBytesAsync(path), await GetAsync(product.GetProperty("href").GetString()!));
            }
        }
        IReadOnlyList<short> Ppids(System.Text.Json.JsonElement job) =>
            [.. job.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("ppid").GetInt16())];

        // Refused at submission, naming the input: a filter or tile the ops database does not know; a bad token. Nothing queued.
        await Refused(http, bearer, $"{{\"type\": \"reference\", \"inputs\": {{\"field\": {field}, \"filter\": \"Q999\"}}}}", "filter", "not a filter");
        await Refused(http, bearer, "{\"type\": \"reference\", \"inputs\": {\"field\": 123, \"filter\": \"H158\"}}", "field", "not a field");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(http, "Bearer wrong", "{\"type\": \"postprocessing\", \"inputs\": {\"procdate\": \"20280904\"}}")).StatusCode);
        await using (var conn = await survey.Database.OpenConnectionAsync())
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from submissions"));

        // postprocessing: the night's reference and science job stamped, one ppid-17 job each; their stamped products listed.
        var post = await RunAsync("{\"type\": \"postprocessing\", \"inputs\": {\"procdate\": \"20280904\"}}");
        Assert.Equal(new short[] { 17, 17 }, Ppids(post));
        var postProducts = post.GetProperty("products").EnumerateArray().Select(p => p.GetProperty("uri").GetString()!).ToList();
        Assert.Contains(postProducts, u => u.Contains("_ppid12_v1_", StringComparison.Ordinal) && u.EndsWith("_refimage.fits", StringComparison.Ordinal));
        Assert.Contains(postProducts, u => u.Contains("_ppid15_v1_", StringComparison.Ordinal) && u.EndsWith("_diffimage.fits", StringComparison.Ordinal));
        await ProductsServeTheStoredFilesAsync(post);

        // nightrecovery: the night's recovery job, its merged table, its log; the night's report linked from the night.
        var recovery = await RunAsync("{\"type\": \"nightrecovery\", \"inputs\": {\"procdate\": \"20280904\"}}");
        Assert.Equal(new short[] { 18 }, Ppids(recovery));
        Assert.Equal(recovery.GetProperty("jobs")[0].GetProperty("exitCode").GetInt32(), recovery.GetProperty("exitCode").GetInt32());
        Assert.Contains(recovery.GetProperty("products").EnumerateArray(), p => p.GetProperty("name").GetString() == "night_injrecov");
        await ProductsServeTheStoredFilesAsync(recovery);
        Assert.NotEmpty(await GetAsync(recovery.GetProperty("log").GetString()!));
        var night = await Json(await Send(http, HttpMethod.Get, "/api/v1/nights/20280904", bearer), HttpStatusCode.OK);
        Assert.Contains("<html", System.Text.Encoding.UTF8.GetString(await GetAsync(night.GetProperty("report").GetString()!)), StringComparison.OrdinalIgnoreCase);

        // reference: a new version of the tile's reference (it has one), registered best and post-processed.
        var reference = await RunAsync($"{{\"type\": \"reference\", \"inputs\": {{\"field\": {field}, \"filter\": \"h158\", \"procdate\": \"20280905\"}}}}");
        Assert.Equal(new short[] { 12, 17 }, Ppids(reference));
        var refImage = reference.GetProperty("products").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "refimage");
        Assert.Contains("_ppid12_v2_", refImage.GetProperty("uri").GetString());
        await ProductsServeTheStoredFilesAsync(reference);
        Assert.NotEmpty(await GetAsync(reference.GetProperty("log").GetString()!));
        await using (var conn = await survey.Database.OpenConnectionAsync())
            Assert.Equal(new[] { (1, 0), (2, 1) }, await conn.QueryAsync<(int, int)>("select version, vbest::int from refimages where field = @field order by version", new { field }));

        // science: the last night's image against that new reference, post-processed; submitted again, nothing runs twice.
        var science = await RunAsync($"{{\"type\": \"science\", \"inputs\": {{\"rid\": {lastRid}, \"procdate\": \"20280905\"}}}}");
        Assert.Equal(new short[] { 15, 17 }, Ppids(science));
        await ProductsServeTheStoredFilesAsync(science);
        var again = await RunAsync($"{{\"type\": \"science\", \"inputs\": {{\"rid\": {lastRid}}}}}");
        Assert.Equal(science.GetProperty("jid").GetInt64(), again.GetProperty("jid").GetInt64());
        Assert.Contains("processed before", again.GetProperty("reason").GetString());
        await using (var conn = await survey.Database.OpenConnectionAsync())
        {
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from jobattempts where jid = @jid", new { jid = science.GetProperty("jid").GetInt64() }));
            Assert.Equal(2, await conn.ExecuteScalarAsync<int>(
                "select r.version from diffimages d join refimages r on r.rfid = d.rfid where d.jid = @jid", new { jid = science.GetProperty("jid").GetInt64() }));
        }

        // diff: a user's own science image against the new reference's files; the products it wrote and its log.
        string Stored(string role) => store.PathOf(ObjectRef.Parse(reference.GetProperty("products").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == role).GetProperty("uri").GetString()!));
        string scienceFile;
        await using (var conn = await survey.Database.OpenConnectionAsync())
            scienceFile = store.PathOf(ObjectRef.Parse(await conn.ExecuteScalarAsync<string>("select filename from l2files where rid = @lastRid", new { lastRid }) ?? ""));
        var diff = await RunAsync(System.Text.Json.JsonSerializer.Serialize(new
        {
            type = "diff",
            inputs = new Dictionary<string, string>
            {
                ["science"] = scienceFile, ["reference-image"] = Stored("refimage"), ["reference-coverage"] = Stored("refimage_cov"),
                ["reference-uncertainty"] = Stored("refimage_uncert"),
            },
        }));
        Assert.Contains(diff.GetProperty("products").EnumerateArray(), p => p.GetProperty("name").GetString() == "diffimage.fits");
        await ProductsServeTheStoredFilesAsync(diff);
        Assert.Contains("step", System.Text.Encoding.UTF8.GetString(await GetAsync(diff.GetProperty("log").GetString()!)));

        // Every job names the immutable code that ran it: the version with its commit, on the job, its submission and its products.
        foreach (var submission in new[] { post, recovery, reference, science })
        {
            foreach (var job in submission.GetProperty("jobs").EnumerateArray())
            {
                var software = job.GetProperty("software").GetString() ?? "";
                Assert.Matches(SoftwareWithCommit(), software);
                Assert.Equal(software[(software.IndexOf('+') + 1)..], job.GetProperty("gitCommit").GetString());
                Assert.Equal(submission.GetProperty("software").GetString(), software);
            }
        }
        Assert.Matches(SoftwareWithCommit(), diff.GetProperty("software").GetString() ?? "");
        await using (var conn = await survey.Database.OpenConnectionAsync())
        {
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("""
                select (select count(*) from refimages r left join swversions s on s.svid = r.svid where s.cvstag is distinct from @software)
                     + (select count(*) from diffimages d left join swversions s on s.svid = d.svid where s.cvstag is distinct from @software)
                """, new { software = science.GetProperty("software").GetString() }));
        }

        rapid.Signal("TERM");
        Assert.Equal(143, await rapid.WaitForExitAsync(TimeSpan.FromMinutes(1)));
    }

    [GeneratedRegex(@"^\d+\.\d+\.\d+\+[0-9a-f]{40}$")]
    private static partial Regex SoftwareWithCommit();
}
