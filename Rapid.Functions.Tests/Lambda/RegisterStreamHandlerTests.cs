using System.Net;
using System.Text.Json;
using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.Lambda;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

[Collection(OpsDatabaseCollection.Name)]
public sealed class RegisterStreamHandlerTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;

    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    /// <summary>An SQS message whose body is an S3 notification of <paramref name="obj"/>, its key URL-encoded as S3 sends it.</summary>
    private static string Message(string id, ObjectRef obj)
    {
        var body = "{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"" + obj.Bucket + "\"},\"object\":{\"key\":\"" + WebUtility.UrlEncode(obj.Key) + "\",\"size\":1234}}}]}";
        return $$"""{"messageId":"{{id}}","receiptHandle":"rh-{{id}}","body":{{JsonSerializer.Serialize(body)}},"eventSource":"aws:sqs"}""";
    }

    [Fact]
    public async Task Registers_each_manifest_and_reports_only_the_message_whose_manifest_is_missing()
    {
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(120, 30));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 5);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg);
        var plan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var config = Assert.Single(await _w.ConfigsAsync(plan));
        await _w.WriteSuccessManifestAsync(config);
        var good = _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid);
        var missing = _w.Keys.Manifest(OpsWorld.ProcDate, config.Jid + 1000);
        var notAManifest = _w.Keys.Product(OpsWorld.ProcDate, config.Jid, "refimage.fits");
        var sqsEvent = $$"""{"Records":[{{Message("m-good", good)}},{{Message("m-missing", missing)}},{{Message("m-fits", notAManifest)}}]}""";

        var response = JsonDocument.Parse(HandlerHost.Invoke(new RegisterStreamHandler(HandlerHost.EnvironmentOf(_w)).Handle, sqsEvent)).RootElement;

        var failed = response.GetProperty("batchItemFailures").EnumerateArray().Select(f => f.GetProperty("itemIdentifier").GetString()).ToList();
        Assert.Equal(["m-missing"], failed);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var job = await conn.QuerySingleAsync<(short Status, int ExitCode)>("select status, exitcode from jobs where jid = @Jid", new { config.Jid });
        Assert.Equal((1, 0), (job.Status, job.ExitCode));
    }

    [Fact]
    public async Task A_manifest_at_another_key_and_an_invalid_one_are_batch_item_failures_and_a_redelivery_is_not()
    {
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(150, -60));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 3);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: 1);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg, sca: 2);
        var plan = await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        var (first, second) = (await _w.ConfigsAsync(plan)) is [var a, var b] ? (a, b) : throw new InvalidOperationException("two jobs expected");
        var good = await _w.WriteSuccessManifestAsync(first);
        var bad = await _w.WriteSuccessManifestAsync(second);
        await Contract.WriteAsync(_w.Store, _w.Keys.Manifest(OpsWorld.ProcDate, second.Jid), bad with { Batch = bad.Batch with { Attempt = -1 } });
        // The attacker's copy of the first job's manifest, at a key of their choosing.
        var evil = new ObjectRef(_w.Keys.Buckets.Products, $"evil/x/manifest_jid{first.Jid}.json");
        await Contract.WriteAsync(_w.Store, evil, good);
        var handler = new RegisterStreamHandler(HandlerHost.EnvironmentOf(_w));

        var failed = Failed(HandlerHost.Invoke(handler.Handle, $$"""{"Records":[{{Message("m-evil", evil)}},{{Message("m-bad", _w.Keys.Manifest(OpsWorld.ProcDate, second.Jid))}}]}"""));

        Assert.Equal(["m-evil", "m-bad"], failed);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select status from jobs where jid = @Jid", new { first.Jid }));
        Assert.Equal($"1 {ExitCodes.InvalidManifest}", await conn.ExecuteScalarAsync<string>("select status || ' ' || exitcode from jobs where jid = @Jid", new { second.Jid }));
        Assert.Contains("batch.attempt", await conn.ExecuteScalarAsync<string>("select reason from jobs where jid = @Jid", new { second.Jid }));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from diffimages"));

        // The real manifest, then its redelivery: registered once, and the redelivery is no failure.
        var real = Message("m-real", _w.Keys.Manifest(OpsWorld.ProcDate, first.Jid));
        Assert.Empty(Failed(HandlerHost.Invoke(handler.Handle, $$"""{"Records":[{{real}}]}""")));
        Assert.Empty(Failed(HandlerHost.Invoke(handler.Handle, $$"""{"Records":[{{real}}]}""")));
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from diffimages"));
    }

    private static List<string?> Failed(string response) =>
        JsonDocument.Parse(response).RootElement.GetProperty("batchItemFailures").EnumerateArray().Select(f => f.GetProperty("itemIdentifier").GetString()).ToList();

    [Fact]
    public void A_message_that_is_not_an_S3_notification_fails_alone()
    {
        var sqsEvent = """{"Records":[{"messageId":"m-bad","body":"not json"},{"messageId":"m-test","body":"{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\"}"}]}""";

        var response = JsonDocument.Parse(HandlerHost.Invoke(new RegisterStreamHandler(HandlerHost.EnvironmentOf(_w)).Handle, sqsEvent)).RootElement;

        var failed = response.GetProperty("batchItemFailures").EnumerateArray().Select(f => f.GetProperty("itemIdentifier").GetString()).ToList();
        Assert.Equal(["m-bad"], failed);
    }

    [Theory]
    [InlineData("20280907/jid12/manifest_jid12.json", true)]
    [InlineData("20280907/jid12/refimage.fits", false)]
    [InlineData("20280907/jid12/manifest_jid12.json.tmp", false)]
    public void Only_product_manifests_are_registered(string key, bool manifest) =>
        Assert.Equal(manifest, RegisterStreamHandler.IsManifest(new ObjectRef("rapid-product-files", key)));
}
