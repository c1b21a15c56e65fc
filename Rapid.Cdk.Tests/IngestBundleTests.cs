using System.Text.Json.Nodes;
using Dapper;
using Rapid.Cdk.Tests.Support;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Tests.Support;
using Rapid.Functions.Tests.Lambda;
using Rapid.Pipeline.Simulation;

namespace Rapid.Cdk.Tests;

/// <summary>
/// Issue 13: the Ingest function of the synthesized template, started from its published bundle as the managed runtime
/// starts it (tools/lambda-runtime), with the template's environment, on s3rver (the data bucket) and a private PostgreSQL
/// (the operations role, as the deploy's migration leaves it), its Step Functions endpoint a loopback server answering as
/// the API Reference documents. The same S3 event delivered twice registers the file once and asks for one execution
/// name twice: Step Functions starts it once (the second answer is ExecutionAlreadyExists), and the batch succeeds both times.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class IngestBundleTests(DefaultStack stack, EmbeddedDatabaseFixture database) : IClassFixture<EmbeddedDatabaseFixture>
{
    [Fact]
    public async Task A_landed_file_is_registered_from_s3rver_once_and_its_prompt_execution_is_asked_for_by_one_name()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 1, seed: 43);
        var s3 = new S3rverFixture();
        await s3.InitializeAsync();
        try
        {
            await Ingest(survey, s3);
        }
        finally
        {
            await s3.DisposeAsync();
        }
    }

    private async Task Ingest(TinySurvey survey, S3rverFixture s3)
    {
        using var files = new TemporaryDirectory();
        var landed = SurveySimulator.Generate(new SurveySpec
        {
            FieldCentres = [(9.5, -44.0)], Filters = ["H158"], Epochs = 1, Size = 192, TransientsPerField = 0, Seed = 44,
            FirstNight = new DateOnly(2028, 9, 20),
        }, files.Path).Images.Single();
        var dataBucket = stack.Resources("AWS::S3::Bucket").Single(b => b.Id.StartsWith("StorageData", StringComparison.Ordinal)).Id;
        var bucket = dataBucket.ToLowerInvariant()[..Math.Min(63, dataBucket.Length)];
        await s3.Client.PutBucketAsync(bucket);
        const string key = "l2/2028/09/20/landed image.fits";
        await s3.Client.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = key, FilePath = landed.Path, UseChunkEncoding = false });
        await OperationsLogin.EnableAsync(stack, survey.OwnerConnectionString);

        var machine = stack.Resources("AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith("PromptWorkflow", StringComparison.Ordinal)).Id;
        var starts = 0;
        var stepFunctions = LoopbackHttpServer.Answer(2, _ => starts++ == 0
            ? (200, $$"""{"executionArn": "arn:aws:states:us-west-2:123456789012:execution:{{machine}}:x", "startDate": 1.8e9}""")
            : (400, """{"__type": "com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists", "message": "Execution Already Exists"}"""));
        var ingest = stack.Resources("AWS::Lambda::Function").Single(f => f.Id.StartsWith("FunctionsIngest", StringComparison.Ordinal)
            && OpsDatabaseTests.IsOperationsStep(f.Resource)).Id;
        var batch = new JsonObject
        {
            ["Records"] = new JsonArray(new JsonObject
            {
                ["messageId"] = "m1", ["eventSource"] = "aws:sqs",
                ["body"] = Notification(bucket, "l2/2028/09/20/landed+image.fits"),
            }),
        };

        var first = Invoke(ingest, batch, survey, s3.Endpoint, stepFunctions.Endpoint);
        var again = Invoke(ingest, batch, survey, s3.Endpoint, stepFunctions.Endpoint);

        foreach (var result in new[] { first, again })
        {
            Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
            Assert.Empty(result["response"]!["batchItemFailures"]!.AsArray());
        }
        await using var conn = await survey.Database.OpenConnectionAsync();
        // Registered once, where it landed.
        var rid = await conn.QuerySingleAsync<long>("select rid from l2files where filename = @name", new { name = $"s3://{bucket}/{key}" });
        var requests = await stepFunctions.All;
        Assert.All(requests, r =>
        {
            Assert.Equal("AWSStepFunctions.StartExecution", r.Headers["X-Amz-Target"]);
            // Signed with the function's own credentials (the runtime's variables), for the states service of its region.
            Assert.StartsWith("AWS4-HMAC-SHA256 Credential=S3RVER/", r.Headers["Authorization"]);
            Assert.Contains("/us-west-2/states/aws4_request", r.Headers["Authorization"]);
            var body = JsonNode.Parse(r.Body)!;
            Assert.Equal($"arn:aws:states:us-west-2:123456789012:stateMachine:{machine}", body["stateMachineArn"]!.GetValue<string>());
            Assert.Equal($"rid{rid}-v1", body["name"]!.GetValue<string>());
        });
        Assert.Equal(requests[0].Body, requests[1].Body);
    }

    private JsonObject Invoke(string function, JsonObject payload, TinySurvey survey, Uri s3, Uri stepFunctions)
    {
        var run = NodeScript.Run(Path.Combine("tools", "lambda-runtime", "invoke.mjs"),
            [
                "--template", stack.TemplatePath, "--function", function,
                "--runtime-host", Path.Combine(AppContext.BaseDirectory, "Rapid.LambdaRuntimeHost.dll"), "--db", survey.OwnerConnectionString,
                "--s3-endpoint", s3.ToString(), "--payload", payload.ToJsonString(),
                "--env", $"{Rapid.Functions.Lambda.StepFunctionsClient.EndpointVariable}={stepFunctions}",
            ], TimeSpan.FromMinutes(2));
        if (run.ExitCode != 0)
            throw new InvalidOperationException($"invoke.mjs {function} failed (exit {run.ExitCode}):\n{run.Stderr}\n{run.Stdout}");
        return JsonNode.Parse(run.Stdout)!.AsObject();
    }

    /// <summary>The recorded S3 notification (Rapid.Functions.Tests/Lambda/Events) naming the bucket and the URL-encoded key.</summary>
    private static string Notification(string bucket, string encodedKey)
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(Rapid.Cdk.Configuration.RepositoryRoot.Find(),
            "Rapid.Functions.Tests", "Lambda", "Events", "s3-object-created-via-sqs.json")))!;
        var s3 = sample["Records"]![0]!["s3"]!;
        s3["bucket"]!["name"] = bucket;
        s3["object"]!["key"] = encodedKey;
        return sample.ToJsonString();
    }
}
