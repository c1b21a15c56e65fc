using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Rapid.Core.Jobs;
using Rapid.Functions.Api;
using Rapid.Functions.Lambda;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>
/// The AWS job API's <c>GET /api/v1/jobs/{id}</c> (ReadJobs λ) against a real ops database, fed the recorded HTTP API payload
/// 2.0 sample (Events/http-api-v2-iam-post-jobs.json) with this route: a science submission reads as its image's science job
/// and succeeds only when that job registered a difference image (as <c>rapid serve</c> decides: Submissions.ScienceVerdict),
/// and its products and log are linked by presigned S3 GET URLs signed with the role's (here fixed, fake) credentials. The
/// verdict is stored when the run ends (Summarize λ), so a later run that processes the image does not change it.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class ReadJobsHandlerTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public Task DisposeAsync() => _w.DisposeAsync().AsTask();

    private static readonly Dictionary<string, string> Role = new()
    {
        ["AWS_REGION"] = "us-west-2", ["AWS_ACCESS_KEY_ID"] = "ASIAEXAMPLEROLEKEY", ["AWS_SECRET_ACCESS_KEY"] = "fake/secret", ["AWS_SESSION_TOKEN"] = "fake-token",
    };

    private JsonObject Get(long id)
    {
        var text = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (status, body) = HandlerHost.Http(new ReadJobsHandler(HandlerHost.EnvironmentOf(_w, Role)).Handle, ReadJobsHandler.JobRoute, $"/api/v1/jobs/{text}", id: text);
        Assert.Equal(200, status);
        return body;
    }

    private async Task<long> SubmitAsync(long rid, string execution)
    {
        var submissions = new Submissions(_w.DataSource);
        var (id, _) = await submissions.SubmitAsync(JobTypes.Science.Validate(new Dictionary<string, string?>
        {
            ["rid"] = rid.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }), null);
        await submissions.StartedAsync(id, execution);
        return id;
    }

    /// <summary>ResolveWindow λ for a prompt execution (the recorded night's window): the night document with its run and lease.</summary>
    private string Resolve(string execution) =>
        JsonDocument.Parse(HandlerHost.Invoke(new ResolveWindowHandler(HandlerHost.EnvironmentOf(_w)).Handle,
            $$"""{"input": {{HandlerHost.NightJson()}}, "executionId": "{{execution}}"}""")).RootElement.GetRawText();

    /// <summary>Summarize λ at the execution's end: its run succeeds, its lease is released, its submissions get their verdict.</summary>
    private void Summarize(string night) => HandlerHost.Invoke(new SummarizeHandler(HandlerHost.EnvironmentOf(_w)).Handle, $$"""{"night": {{night}}}""");

    [Fact]
    public async Task A_science_job_succeeds_only_with_a_registered_difference_image_and_links_its_products_and_log()
    {
        var (ra, dec) = OpsWorld.TileCentre(150, 10);
        await _w.EarlierImagesAsync(ra, dec, 3);
        var image = await _w.TonightImageAsync(ra, dec);
        await using var conn = await _w.DataSource.OpenConnectionAsync();

        // An execution whose run succeeded without planning the image (it is not the best version, say): not a success.
        const string idleExecution = "arn:aws:states:us-west-2:123456789012:execution:Rapid-prompt:idle";
        var idle = await SubmitAsync(image.Rid, idleExecution);
        Summarize(Resolve(idleExecution));
        var failed = Get(idle);
        Assert.Equal("failed", failed["state"]!.GetValue<string>());
        var notPlanned = $"no science job was planned for rid {image.Rid}: it is not the best version of its exposure and SCA";
        Assert.Equal(notPlanned, failed["reason"]!.GetValue<string>());
        Assert.Empty(failed["products"]!.AsArray());

        // The image's execution: its run plans the science job, whose manifest is registered, then the run succeeds.
        const string execution = "arn:aws:states:us-west-2:123456789012:execution:Rapid-prompt:made";
        var id = await SubmitAsync(image.Rid, execution);
        var night = Resolve(execution);
        var plan = JsonSerializer.Deserialize(HandlerHost.Invoke(new PlanScienceHandler(HandlerHost.EnvironmentOf(_w)).Handle, night), LambdaJsonContext.Default.PlanResult)!;
        var config = Assert.Single(await _w.ConfigsAsync(plan));
        var running = Get(id);
        Assert.Equal("running", running["state"]!.GetValue<string>());
        Assert.Equal(config.Jid, running["jid"]!.GetValue<long>());
        await _w.WriteSuccessManifestAsync(config);
        await _w.Register.RegisterManifestAsync(_w.Keys.Manifest(OpsWorld.ProcDate, config.Jid));
        Summarize(night);

        // The first submission keeps the verdict its run gave it (stored by Summarize), though its image now has a difference image.
        var stillFailed = Get(idle);
        Assert.Equal("failed", stillFailed["state"]!.GetValue<string>());
        Assert.Equal(notPlanned, stillFailed["reason"]!.GetValue<string>());
        var stored = (await conn.QueryAsync<(long, string)>("select subid, state from submissions where subid in (@idle, @id)", new { idle, id })).ToDictionary();
        Assert.Equal("failed", stored[idle]);
        Assert.Equal("succeeded", stored[id]);
        var done = Get(id);

        Assert.Equal("succeeded", done["state"]!.GetValue<string>());
        Assert.Equal(config.Jid, done["jid"]!.GetValue<long>());
        Assert.Equal(0, done["exitCode"]!.GetValue<int>());
        var products = done["products"]!.AsArray().Select(p => p!).ToList();
        Assert.Contains(products, p => p["name"]!.GetValue<string>() == Rapid.Core.Contracts.ProductRoles.DifferenceImage);
        Assert.All(products, p =>
        {
            var obj = Rapid.Core.Storage.ObjectRef.Parse(p["uri"]!.GetValue<string>());
            var href = p["href"]!.GetValue<string>();
            Assert.StartsWith($"https://{obj.Bucket}.s3.us-west-2.amazonaws.com/{obj.Key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&", href, StringComparison.Ordinal);
            Assert.Contains("&X-Amz-Expires=900&", href, StringComparison.Ordinal);
            Assert.Contains("X-Amz-Credential=ASIAEXAMPLEROLEKEY%2F", href, StringComparison.Ordinal);
            Assert.Contains("X-Amz-Security-Token=fake-token", href, StringComparison.Ordinal);
        });
        var log = _w.Keys.Log(OpsWorld.ProcDate, config.Jid);
        Assert.StartsWith($"https://{log.Bucket}.s3.us-west-2.amazonaws.com/{log.Key}?", done["log"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
