using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dapper;
using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Api;

/// <summary>
/// A real <c>rapid serve</c> process on a tiny survey's home, called over HTTP as a client would: the token file made with
/// mode 0600, every call refused without the token or with a wrong one, bad bodies and inputs refused naming what is wrong,
/// unknown ids 404, and a science job submitted, run and read back with its products, log and night.
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class ServeCommandTests(EmbeddedDatabaseFixture fixture)
{
    private const string ProcDate = "20280921";

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task The_api_refuses_bad_calls_naming_the_fault_and_runs_a_submitted_science_job_to_its_difference_image()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, seed: 29);
        var port = FreePort();
        using var rapid = RapidProcess.Start("serve", "--listen", $"http://127.0.0.1:{port}", "--db", survey.OwnerConnectionString, "--home", survey.Home.Path,
            "--parallel", "1", "--reference-grid", TinySurvey.ReferenceGrid.ToString());
        await rapid.WaitUntilAsync(() => rapid.Output.Contains("Serving"), TimeSpan.FromMinutes(1));
        var tokenFile = Path.Combine(survey.Home.Path, "api-token");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
        var token = (await File.ReadAllTextAsync(tokenFile)).Trim();
        Assert.DoesNotContain(token, rapid.Output + rapid.Error);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        // Every call needs the token.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/openapi.json")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(http, HttpMethod.Get, "/api/v1/jobs/1", "Bearer " + token[..^1] + "x")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(http, HttpMethod.Get, "/api/v1/jobs/1", "Basic " + token)).StatusCode);
        var bearer = "Bearer " + token;

        // The OpenAPI document lists each job type with its required inputs.
        var openApi = await Json(await Send(http, HttpMethod.Get, "/api/v1/openapi.json", bearer), HttpStatusCode.OK);
        var science = openApi.GetProperty("components").GetProperty("schemas").GetProperty("Submission").GetProperty("oneOf").EnumerateArray()
            .Single(s => s.GetProperty("title").GetString() == "science");
        Assert.Equal(["rid"], science.GetProperty("properties").GetProperty("inputs").GetProperty("required").EnumerateArray().Select(e => e.GetString()));

        // Bad bodies and inputs: refused at submission, naming the fault; nothing queued.
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(http, bearer, "{\"type\": \"science\", ")).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Post(http, bearer, $"{{\"type\": \"science\", \"tag\": \"{new string('a', 100_000)}\"}}")).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await Post(http, bearer, "{\"type\": \"science\"}", "text/plain")).StatusCode);
        await Refused(http, bearer, "{\"type\": \"science\", \"inputs\": {}}", "rid", "required");
        await Refused(http, bearer, "{\"type\": \"science\", \"inputs\": {\"rid\": -4}}", "rid", "positive integer");
        await Refused(http, bearer, "{\"type\": \"science\", \"inputs\": {\"rid\": 999999}}", "rid", "not registered");
        await Refused(http, bearer, "{\"type\": \"science\", \"inputs\": {\"rid\": 1, \"colour\": \"red\"}}", "colour", "not an input");
        await Refused(http, bearer, "{\"type\": \"mosaic\"}", "type", "not a job type");
        await Refused(http, bearer, "{\"type\": \"diff\", \"inputs\": {\"science\": \"/etc/hostname\"}}", "reference-image", "required");
        await Refused(http, bearer, "{\"type\": \"postprocessing\", \"inputs\": {\"procdate\": \"2028-09-21\"}}", "procdate", "");
        await using (var conn = await survey.Database.OpenConnectionAsync())
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from submissions"));

        // Unknown ids.
        Assert.Equal(HttpStatusCode.NotFound, (await Send(http, HttpMethod.Get, "/api/v1/jobs/12345", bearer)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(http, HttpMethod.Get, "/api/v1/jobs/abc", bearer)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(http, HttpMethod.Get, "/api/v1/nights/20100101", bearer)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(http, HttpMethod.Get, "/api/v1/nights/2028-09-21", bearer)).StatusCode);

        // A science job of the last epoch's first image: a reference is made from the earlier epochs, then its difference image.
        long rid;
        await using (var conn = await survey.Database.OpenConnectionAsync())
            rid = await conn.ExecuteScalarAsync<long>("select rid from l2files order by dateobs desc, rid limit 1");
        var submitted = await Post(http, bearer, $"{{\"type\": \"science\", \"inputs\": {{\"rid\": {rid}, \"procdate\": \"{ProcDate}\"}}, \"tag\": \"prompt-test\"}}");
        Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, $"{submitted.StatusCode}: {rapid.Error}");
        var accepted = await Json(submitted, HttpStatusCode.Accepted);
        var id = accepted.GetProperty("id").GetInt64();
        Assert.Equal($"/api/v1/jobs/{id}", submitted.Headers.Location?.ToString());

        var job = await FinalStateAsync(http, bearer, id, rapid);
        Assert.True(job.GetProperty("state").GetString() == "succeeded", job.ToString());
        Assert.True(job.GetProperty("exitCode").GetInt32() is 0 or 32, job.ToString());
        Assert.Equal("prompt-test", job.GetProperty("tag").GetString());
        var attempt = Assert.Single(job.GetProperty("attempts").EnumerateArray());
        Assert.False(string.IsNullOrEmpty(attempt.GetProperty("software").GetString()), job.ToString());
        var diff = job.GetProperty("products").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "diffimage");
        var bytes = await (await Send(http, HttpMethod.Get, diff.GetProperty("href").GetString()!, bearer)).Content.ReadAsByteArrayAsync();
        Assert.Equal(await File.ReadAllBytesAsync(survey.Home.OpenStore().PathOf(Core.Storage.ObjectRef.Parse(diff.GetProperty("uri").GetString()!))), bytes);
        var log = await Send(http, HttpMethod.Get, job.GetProperty("log").GetString()!, bearer);
        Assert.Equal(HttpStatusCode.OK, log.StatusCode);
        Assert.Contains("step", await log.Content.ReadAsStringAsync());

        var night = await Json(await Send(http, HttpMethod.Get, $"/api/v1/nights/{ProcDate}", bearer), HttpStatusCode.OK);
        Assert.Equal(1, night.GetProperty("differenceImages").GetInt32());

        // Cancel: two more science jobs submitted back to back. The first's pipeline job is stopped (SIGSTOP) as soon as it
        // runs, so it is surely running when cancelled, and the second surely waiting: each fails with the reason, the running
        // one's run is interrupted (its frozen child killed) and leaves no job open; an ended job answers 409, an unknown one 404.
        long[] others;
        await using (var conn = await survey.Database.OpenConnectionAsync())
            others = [.. await conn.QueryAsync<long>("select rid from l2files where rid <> @rid order by dateobs desc, rid limit 2", new { rid })];
        var ids = new List<long>();
        foreach (var other in others)
            ids.Add((await Json(await Post(http, bearer, $"{{\"type\": \"science\", \"inputs\": {{\"rid\": {other}, \"procdate\": \"{ProcDate}\"}}}}"),
                HttpStatusCode.Accepted)).GetProperty("id").GetInt64());
        RapidProcess.Freeze(await rapid.WaitForPipelineChildAsync(TimeSpan.FromMinutes(1)));
        // While it runs, the jobs its run has planned are listed already: the submission is tied to its run when the run begins.
        var running = await Json(await Send(http, HttpMethod.Get, $"/api/v1/jobs/{ids[0]}", bearer), HttpStatusCode.OK);
        Assert.True(running.GetProperty("state").GetString() == "running" && running.GetProperty("jobs").GetArrayLength() > 0, running.ToString());
        foreach (var cancelled in ids)
        {
            var answer = await Json(await Send(http, HttpMethod.Delete, $"/api/v1/jobs/{cancelled}", bearer), HttpStatusCode.Accepted);
            Assert.Equal("failed", answer.GetProperty("state").GetString());
        }
        await rapid.WaitUntilAsync(() => rapid.Error.Contains($"job {ids[0]} (science): cancelled through the job API (its run stopped)"), TimeSpan.FromMinutes(1));
        foreach (var cancelled in ids)
        {
            var read = await FinalStateAsync(http, bearer, cancelled, rapid);
            Assert.True(read.GetProperty("reason").GetString() == "cancelled through the job API", read.ToString());
        }
        await UntilAsync(async () =>
        {
            await using var conn = await survey.Database.OpenConnectionAsync();
            return await conn.ExecuteScalarAsync<int>("select count(*) from runs where ended is null") == 0;
        }, rapid);
        await using (var conn = await survey.Database.OpenConnectionAsync())
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from jobs where status = 0"));
        var ended = await Json(await Send(http, HttpMethod.Delete, $"/api/v1/jobs/{id}", bearer), HttpStatusCode.Conflict);
        Assert.Contains("has ended (succeeded)", ended.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Send(http, HttpMethod.Delete, "/api/v1/jobs/12345", bearer)).StatusCode);

        rapid.Signal("TERM");
        Assert.Equal(143, await rapid.WaitForExitAsync(TimeSpan.FromMinutes(1)));
    }

    /// <summary>Polls the condition every 200 ms until it holds (1 minute at most).</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition, RapidProcess server)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(1)) throw new TimeoutException($"waited 1 minute: {server.Error}");
            await Task.Delay(200);
        }
    }

    /// <summary>Polls GET /api/v1/jobs/{id} until the submission succeeded or failed (5 minutes at most).</summary>
    internal static async Task<JsonElement> FinalStateAsync(HttpClient http, string bearer, long id, RapidProcess server)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var response = await Send(http, HttpMethod.Get, $"/api/v1/jobs/{id}", bearer);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {server.Error}");
            var job = await Json(response, HttpStatusCode.OK);
            if (job.GetProperty("state").GetString() is "succeeded" or "failed") return job;
            if (clock.Elapsed > TimeSpan.FromMinutes(5)) throw new TimeoutException($"job {id} still {job}: {server.Error}");
            await Task.Delay(500);
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static async Task<HttpResponseMessage> Send(HttpClient http, HttpMethod method, string path, string? authorization, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return await http.SendAsync(request);
    }

    internal static Task<HttpResponseMessage> Post(HttpClient http, string bearer, string body, string mediaType = "application/json") =>
        Send(http, HttpMethod.Post, "/api/v1/jobs", bearer, new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue(mediaType)));

    internal static async Task Refused(HttpClient http, string bearer, string body, string input, string problem)
    {
        var error = await Json(await Post(http, bearer, body), HttpStatusCode.UnprocessableEntity);
        Assert.Equal(input, error.GetProperty("input").GetString());
        Assert.Contains(problem, error.GetProperty("error").GetString());
    }

    internal static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
