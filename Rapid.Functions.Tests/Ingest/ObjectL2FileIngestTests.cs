using System.Text.Json.Nodes;
using Dapper;
using Rapid.Core.Storage;
using Rapid.Core.Tests.Support;
using Rapid.Functions.Ingest;
using Rapid.Functions.Lambda;
using Rapid.Functions.Tests.Lambda;
using Rapid.Functions.Tests.Support;
using Rapid.Pipeline.Simulation;

namespace Rapid.Functions.Tests.Ingest;

/// <summary>
/// Issue 13 (AWS ingest): an L2 file already in S3 is registered from its headers read by ranged GETs against s3rver (a
/// real S3 HTTP server: the Range header, 206 answers), the checksum from one streamed read; and the Ingest λ's handler
/// on SQS batches of S3 notifications (a recorded event shape), with partial batch failures.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class ObjectL2FileIngestTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private readonly S3rverFixture _s3 = new();
    private readonly TemporaryDirectory _files = new();
    private OpsWorld _w = null!;
    private SimulatedImage _image = null!;
    private const string Bucket = "rapid-data";

    public async Task InitializeAsync()
    {
        await _s3.InitializeAsync();
        _w = await OpsWorld.CreateAsync(db);
        var survey = SurveySimulator.Generate(new SurveySpec
        {
            FieldCentres = [(9.5, -44.0)], Filters = ["H158"], Epochs = 1, Size = 256, TransientsPerField = 0, Seed = 3,
        }, _files.Path);
        _image = survey.Images[0];
        await _s3.Client.PutBucketAsync(Bucket);
    }

    public async Task DisposeAsync()
    {
        await _w.DisposeAsync();
        await _s3.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task An_object_is_registered_from_its_headers_alone_with_the_checksum_of_all_its_bytes()
    {
        var store = new S3ObjectStore(_s3.Client);
        var obj = new ObjectRef(Bucket, "l2/2028/09/08/" + Path.GetFileName(_image.Path));
        await store.PutFileAsync(obj, _image.Path);
        var size = new FileInfo(_image.Path).Length;

        var first = await new ObjectL2FileIngest(store, _w.DataSource).IngestAsync(obj);
        var again = await new ObjectL2FileIngest(store, _w.DataSource).IngestAsync(obj);

        Assert.Null(first.Result.Problem);
        Assert.True(first.Result.Registered!.Inserted);
        // Only header blocks were fetched: one ranged GET of ten 2880-byte blocks, far less than the 256² image.
        Assert.Equal(1, first.HeaderRequests);
        Assert.True(first.HeaderBytes <= ObjectRangeStream.FirstRangeBytes && first.HeaderBytes < size / 4, $"{first.HeaderBytes} of {size} bytes");
        // The same object again is the same row, version 1, still best (idempotent).
        Assert.False(again.Result.Registered!.Inserted);
        Assert.Equal(first.Result.Registered.Rid, again.Result.Registered.Rid);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var row = await conn.QuerySingleAsync<(string Filename, string Checksum, int Version, int Vbest)>(
            "select filename, checksum, version, vbest from l2files");
        Assert.Equal((obj.ToString(), FileChecksum.Of(_image.Path).Md5, 1, 1), row);
    }

    [Fact]
    public async Task A_header_longer_than_the_first_range_is_read_in_growing_ranges_until_its_end_card()
    {
        var store = new S3ObjectStore(_s3.Client);
        // 400 COMMENT cards more (32,000 bytes): the header runs past the first range.
        var padded = Path.Combine(_files.Path, "long-header.fits");
        WithCommentCards(_image.Path, padded, 400);
        var obj = new ObjectRef(Bucket, "l2/long-header.fits");
        await store.PutFileAsync(obj, padded);

        var ingested = await new ObjectL2FileIngest(store, _w.DataSource).IngestAsync(obj);

        Assert.Null(ingested.Result.Problem);
        Assert.True(ingested.HeaderRequests >= 2, $"{ingested.HeaderRequests} requests");
        Assert.True(ingested.HeaderBytes < new FileInfo(padded).Length / 2, $"{ingested.HeaderBytes} of {new FileInfo(padded).Length}");
    }

    [Fact]
    public async Task A_truncated_object_is_refused_naming_it_and_nothing_is_registered()
    {
        var store = new S3ObjectStore(_s3.Client);
        var bytes = await File.ReadAllBytesAsync(_image.Path);
        var obj = new ObjectRef(Bucket, "l2/cut.fits");
        await store.PutBytesAsync(obj, bytes.AsMemory(0, bytes.Length - 5000));

        var ingested = await new ObjectL2FileIngest(store, _w.DataSource).IngestAsync(obj);

        Assert.Contains("s3://rapid-data/l2/cut.fits", ingested.Result.Problem);
        Assert.Contains("truncated", ingested.Result.Problem);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from l2files"));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from exposures"));
    }

    /// <summary>
    /// The handler on an SQS batch: a good L2 file, the same event again (re-delivered), a file cut short, a key that is
    /// not FITS (ignored) and a body that is no notification. Only the bad file's and the bad body's messages come back.
    /// </summary>
    [Fact]
    public async Task The_handler_registers_each_file_once_and_reports_only_the_failed_messages()
    {
        var store = new DirectoryObjectStore(_w.StoreRoot);
        var good = new ObjectRef("rapid-data-bucket", "l2/a b.fits");
        await store.PutFileAsync(good, _image.Path);
        var cut = new ObjectRef("rapid-data-bucket", "l2/cut.fits");
        var bytes = await File.ReadAllBytesAsync(_image.Path);
        await store.PutBytesAsync(cut, bytes.AsMemory(0, bytes.Length - 5000));
        // Step Functions: the first StartExecution starts, the re-delivered event's finds the execution of that name.
        var stepFunctions = LoopbackHttpServer.Answer(2, r => r.Body.Contains("\"name\":\"rid", StringComparison.Ordinal) && _starts++ == 0
            ? (200, """{"executionArn": "arn:aws:states:us-west-2:123456789012:execution:Rapid-prompt:first", "startDate": 1.8e9}""")
            : (400, """{"__type": "ExecutionAlreadyExists", "message": "Execution Already Exists"}"""));
        var handler = new IngestHandler(HandlerHost.EnvironmentOf(_w, new()
        {
            [Buckets.DataVariable] = "rapid-data-bucket",
            [IngestHandler.PromptStateMachineVariable] = "arn:aws:states:us-west-2:123456789012:stateMachine:Rapid-prompt",
            [StepFunctionsClient.EndpointVariable] = stepFunctions.Endpoint.ToString(),
            ["AWS_REGION"] = "us-west-2", ["AWS_ACCESS_KEY_ID"] = "AKIDLOCAL", ["AWS_SECRET_ACCESS_KEY"] = "local-secret", ["AWS_SESSION_TOKEN"] = "local-token",
        }));
        var batch = new JsonObject
        {
            ["Records"] = new JsonArray(
                Message("m1", Notification("rapid-data-bucket", "l2/a+b.fits")),
                Message("m2", Notification("rapid-data-bucket", "l2/a+b.fits")),
                Message("m3", Notification("rapid-data-bucket", "l2/cut.fits")),
                Message("m4", Notification("rapid-data-bucket", "l2/notes.txt")),
                Message("m5", "not a notification")),
        };

        var response = JsonNode.Parse(HandlerHost.Invoke(handler.Handle, batch.ToJsonString()))!;

        Assert.Equal(["m3", "m5"], response["batchItemFailures"]!.AsArray().Select(f => f!["itemIdentifier"]!.GetValue<string>()));
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var rid = await conn.QuerySingleAsync<long>("select rid from l2files");
        Assert.Equal([good.ToString()], (await conn.QueryAsync<string>("select filename from l2files")).ToList());
        // Both deliveries asked for the same execution (name and input), so Step Functions started one.
        var starts = await stepFunctions.All;
        Assert.All(starts, r => Assert.Equal("AWSStepFunctions.StartExecution", r.Headers["X-Amz-Target"]));
        var bodies = starts.Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.All(bodies, b => Assert.Equal($"rid{rid}-v1", b["name"]!.GetValue<string>()));
        Assert.Equal(bodies[0]["input"]!.GetValue<string>(), bodies[1]["input"]!.GetValue<string>());
        // The input names exactly this image: ResolveWindow takes its exposure's second, the plan steps plan it alone.
        var input = JsonNode.Parse(bodies[0]["input"]!.GetValue<string>())!;
        Assert.Equal("""{"submission":{"type":"science","inputs":{"rid":"RID"}}}""".Replace("RID", rid.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal),
            input.ToJsonString());
    }

    private int _starts;

    private static JsonObject Message(string id, string body) => new() { ["messageId"] = id, ["body"] = body, ["eventSource"] = "aws:sqs" };

    /// <summary>The recorded S3 notification with its bucket and (URL-encoded) key.</summary>
    private static string Notification(string bucket, string encodedKey)
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Lambda", "Events", "s3-object-created-via-sqs.json")))!;
        var s3 = sample["Records"]![0]!["s3"]!;
        s3["bucket"]!["name"] = bucket;
        s3["bucket"]!["arn"] = $"arn:aws:s3:::{bucket}";
        s3["object"]!["key"] = encodedKey;
        return sample.ToJsonString();
    }

    /// <summary>A copy of a FITS file with <paramref name="count"/> COMMENT cards added before END of its first header.</summary>
    private static void WithCommentCards(string source, string target, int count) =>
        EditPrimaryHeader(source, target, cards => cards.Concat(Enumerable.Range(0, count).Select(i => $"COMMENT padding card {i}".PadRight(80))));

    /// <summary>Rewrites the cards of the first header (blocks re-padded to 2880 bytes) and copies the rest unchanged.</summary>
    private static void EditPrimaryHeader(string source, string target, Func<IEnumerable<string>, IEnumerable<string>> edit)
    {
        var bytes = File.ReadAllBytes(source);
        var cards = new List<string>();
        var at = 0;
        while (true)
        {
            var card = System.Text.Encoding.ASCII.GetString(bytes, at, 80);
            at += 80;
            if (card.StartsWith("END     ", StringComparison.Ordinal)) break;
            cards.Add(card);
        }
        var headerEnd = (at + 2879) / 2880 * 2880;
        var text = string.Concat(edit(cards)) + "END".PadRight(80);
        text = text.PadRight((text.Length + 2879) / 2880 * 2880);
        using var output = File.Create(target);
        output.Write(System.Text.Encoding.ASCII.GetBytes(text));
        output.Write(bytes, headerEnd, bytes.Length - headerEnd);
    }
}
