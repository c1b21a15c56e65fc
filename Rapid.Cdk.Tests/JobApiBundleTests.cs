using System.Text.Json.Nodes;
using Dapper;
using Rapid.Cdk.Tests.Support;
using Rapid.Cli.Tests.Support;
using Rapid.Functions.Tests.Lambda;

namespace Rapid.Cdk.Tests;

/// <summary>
/// Issue 13: the job API's functions of the synthesized template, started from their published bundle as the managed runtime
/// starts them (tools/lambda-runtime), with the template's environment, on a private PostgreSQL (the operations role) and a
/// loopback Step Functions endpoint; the requests are the recorded HTTP API payload 2.0 sample (IAM authorizer,
/// Rapid.Functions.Tests/Lambda/Events/http-api-v2-iam-post-jobs.json) with the route, path and body of each call.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class JobApiBundleTests(DefaultStack stack, EmbeddedDatabaseFixture database) : IClassFixture<EmbeddedDatabaseFixture>
{
    [Fact]
    public async Task A_science_job_starts_its_image_prompt_execution_once_and_reads_back_as_that_execution_run_stands()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 1, seed: 45);
        await OperationsLogin.EnableAsync(stack, survey.OwnerConnectionString);
        await using var conn = await survey.Database.OpenConnectionAsync();
        var image = await conn.QueryFirstAsync<(long Rid, int Version, DateTime DateObs)>("select rid, version, dateobs from l2files order by rid limit 1");
        var prompt = Machine("PromptWorkflow");
        var starts = 0;
        var stepFunctions = LoopbackHttpServer.Answer(2, _ => starts++ == 0
            ? (200, $$"""{"executionArn": "arn:aws:states:us-west-2:123456789012:execution:{{prompt}}:rid{{image.Rid}}-v{{image.Version}}", "startDate": 1.8e9}""")
            : (400, """{"__type": "com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists", "message": "Execution Already Exists"}"""));
        var body = $$"""{"type": "science", "inputs": {"rid": {{image.Rid}}}, "tag": "api-test"}""";

        var first = Call("SubmitJob", Request("POST /api/v1/jobs", "/api/v1/jobs", body), survey, stepFunctions.Endpoint);
        var again = Call("SubmitJob", Request("POST /api/v1/jobs", "/api/v1/jobs", body), survey, stepFunctions.Endpoint);

        Assert.Equal(202, first.Status);
        Assert.Equal(202, again.Status);
        Assert.False(first.Body["startedBefore"]!.GetValue<bool>());
        Assert.True(again.Body["startedBefore"]!.GetValue<bool>());
        var id = first.Body["id"]!.GetValue<long>();
        Assert.Equal($"/api/v1/jobs/{id}", first.Headers["location"]!.GetValue<string>());
        Assert.Equal("running", first.Body["state"]!.GetValue<string>());
        var requests = await stepFunctions.All;
        Assert.All(requests, r =>
        {
            Assert.Equal("AWSStepFunctions.StartExecution", r.Headers["X-Amz-Target"]);
            Assert.Contains("/us-west-2/states/aws4_request", r.Headers["Authorization"]);
            var start = JsonNode.Parse(r.Body)!;
            Assert.Equal($"arn:aws:states:us-west-2:123456789012:stateMachine:{prompt}", start["stateMachineArn"]!.GetValue<string>());
            // The Ingest λ's name for the image: an image that landed and was submitted is processed once.
            Assert.Equal($"rid{image.Rid}-v{image.Version}", start["name"]!.GetValue<string>());
            // The input names the image alone (ResolveWindow takes the window from it, the planners plan it alone) and the tag.
            var input = JsonNode.Parse(start["input"]!.GetValue<string>())!;
            Assert.Equal("science", input["submission"]!["type"]!.GetValue<string>());
            Assert.Equal(image.Rid.ToString(System.Globalization.CultureInfo.InvariantCulture), input["submission"]!["inputs"]!["rid"]!.GetValue<string>());
            Assert.Equal("api-test", input["tag"]!.GetValue<string>());
            Assert.Null(input["startDateTime"]);
        });
        Assert.Equal("running", await conn.QuerySingleAsync<string>("select state from submissions where subid = @id", new { id }));

        var job = Call("ReadJobs", Request("GET /api/v1/jobs/{id}", $"/api/v1/jobs/{id}", null, ("id", id.ToString(System.Globalization.CultureInfo.InvariantCulture))), survey, null);
        Assert.Equal(200, job.Status);
        Assert.Equal("science", job.Body["type"]!.GetValue<string>());
        Assert.Equal("running", job.Body["state"]!.GetValue<string>());
        Assert.Equal("api-test", job.Body["tag"]!.GetValue<string>());
        Assert.Equal(image.Rid.ToString(System.Globalization.CultureInfo.InvariantCulture), job.Body["inputs"]!["rid"]!.GetValue<string>());
        var execution = $"arn:aws:states:us-west-2:123456789012:execution:{prompt}:rid{image.Rid}-v{image.Version}";
        Assert.Equal(execution, job.Body["execution"]!.GetValue<string>());
        Assert.Empty(job.Body["jobs"]!.AsArray());
        // The execution's ResolveWindow begins its run (runs.execution) and Summarize ends it: the job follows that run.
        var runid = await conn.QuerySingleAsync<long>("""
            insert into runs (procdate, executor, execution, status, ended) values ('2028-09-01', 'aws', @execution, 'succeeded', now()) returning runid
            """, new { execution });
        var done = Call("ReadJobs", Request("GET /api/v1/jobs/{id}", $"/api/v1/jobs/{id}", null, ("id", id.ToString(System.Globalization.CultureInfo.InvariantCulture))), survey, null);
        // A run that succeeded without making the image's difference image does not make the submission a success (as rapid serve).
        Assert.Equal("failed", done.Body["state"]!.GetValue<string>());
        Assert.Equal($"no science job was planned for rid {image.Rid}: it is not the best version of its exposure and SCA", done.Body["reason"]!.GetValue<string>());
        Assert.NotNull(done.Body["ended"]);
        Assert.True(runid > 0);
        foreach (var unknown in new[] { "999999", "abc", "-1" })
        {
            var missing = Call("ReadJobs", Request("GET /api/v1/jobs/{id}", $"/api/v1/jobs/{unknown}", null, ("id", unknown)), survey, null);
            Assert.Equal(404, missing.Status);
            Assert.Equal($"no job {unknown}", missing.Body["error"]!.GetValue<string>());
        }
        var badNight = Call("ReadJobs", Request("GET /api/v1/nights/{procdate}", "/api/v1/nights/2028-13", null, ("procdate", "2028-13")), survey, null);
        Assert.Equal(400, badNight.Status);
        var emptyNight = Call("ReadJobs", Request("GET /api/v1/nights/{procdate}", "/api/v1/nights/20200101", null, ("procdate", "20200101")), survey, null);
        Assert.Equal(404, emptyNight.Status);

        // The OpenAPI document of this front: the job types it runs (a diff of S3 objects), its routes, and SigV4 as its security.
        var openApi = Call("ReadJobs", Request("GET /api/v1/openapi.json", "/api/v1/openapi.json", null), survey, null);
        Assert.Equal(200, openApi.Status);
        Assert.Equal("^s3://[^/]+/.+$", openApi.Body["components"]!["schemas"]!["Submission"]!["oneOf"]!.AsArray()
            .Single(t => t!["title"]!.GetValue<string>() == "diff")!["properties"]!["inputs"]!["properties"]!["science"]!["pattern"]!.GetValue<string>());
        Assert.Equal(["reference", "science", "postprocessing", "nightrecovery", "diff"],
            openApi.Body["components"]!["schemas"]!["Submission"]!["oneOf"]!.AsArray().Select(t => t!["title"]!.GetValue<string>()));
        Assert.Equal(["/api/v1/jobs", "/api/v1/jobs/{id}", "/api/v1/nights/{procdate}", "/api/v1/openapi.json"],
            openApi.Body["paths"]!.AsObject().Select(p => p.Key));
        Assert.Equal("awsSigv4", openApi.Body["components"]!["securitySchemes"]!["sigv4"]!["x-amazon-apigateway-authtype"]!.GetValue<string>());
    }

    [Fact]
    public async Task Refused_submissions_start_nothing_and_reference_post_processing_and_recovery_jobs_start_executions_naming_them()
    {
        await using var survey = await TinySurvey.CreateAsync(database, epochs: 1, seed: 46);
        await OperationsLogin.EnableAsync(stack, survey.OwnerConnectionString);
        var (nightly, prompt) = (Machine("NightlyWorkflow"), Machine("PromptWorkflow"));
        // Three answers only: the refused requests below must not reach Step Functions (the requests it gets are the last three calls').
        var stepFunctions = LoopbackHttpServer.Answer(3, _ =>
            (200, $$"""{"executionArn": "arn:aws:states:us-west-2:123456789012:execution:{{prompt}}:x", "startDate": 1.8e9}"""));

        (int Status, string? Input) Refused(string body, string contentType = "application/json")
        {
            var answer = Call("SubmitJob", Request("POST /api/v1/jobs", "/api/v1/jobs", body, contentType: contentType), survey, stepFunctions.Endpoint);
            Assert.NotNull(answer.Body["error"]);
            return (answer.Status, answer.Body["input"]?.GetValue<string>());
        }

        Assert.Equal((400, null), Refused("{not json"));
        Assert.Equal((400, null), Refused("""{"type": "science", "inputs": {"rid": 1}, "priority": 9}"""));
        Assert.Equal((415, null), Refused("""{"type": "science", "inputs": {"rid": 1}}""", "text/plain"));
        Assert.Equal((413, null), Refused($$"""{"type": "science", "tag": "{{new string('x', 70_000)}}"}"""));
        Assert.Equal((422, "rid"), Refused("""{"type": "science", "inputs": {"rid": 987654321}}"""));
        Assert.Equal((422, "type"), Refused("""{"type": "teleport"}"""));
        // A diff's inputs on AWS are S3 objects under the pipeline bucket's diff-inputs/ (JobTypes.DiffObjects): a path is refused, named.
        Assert.Equal((422, "science"), Refused("""{"type": "diff", "inputs": {"science": "a.fits", "reference-image": "r.fits", "reference-coverage": "c.fits", "reference-uncertainty": "u.fits"}}"""));
        await using var conn = await survey.Database.OpenConnectionAsync();
        var field = await conn.QueryFirstAsync<long>("select field from l2files limit 1");
        Assert.Equal((422, "filter"), Refused($$$"""{"type": "reference", "inputs": {"field": {{{field}}}, "filter": "Z999"}}"""));
        Assert.Equal(0, await conn.QuerySingleAsync<int>("select count(*)::int from submissions"));

        var submitted = new[]
        {
            $$"""{"type": "reference", "inputs": {"field": {{field}}, "filter": "H158", "procdate": "20280920"}, "tag": "refs"}""",
            """{"type": "postprocessing", "inputs": {"procdate": "20280920"}, "tag": "pp"}""",
            """{"type": "nightrecovery", "inputs": {"procdate": "20280920"}}""",
        }.Select(body => Call("SubmitJob", Request("POST /api/v1/jobs", "/api/v1/jobs", body), survey, stepFunctions.Endpoint)).ToList();

        Assert.All(submitted, a => Assert.Equal(202, a.Status));
        var ids = submitted.Select(a => a.Body["id"]!.GetValue<long>()).ToList();
        var starts = (await stepFunctions.All).Select(r => JsonNode.Parse(r.Body)!).ToList();
        // A reference and a date's post-processing run on the prompt machine (no night recovery, no report), a date's
        // recovery on the nightly one; each input names the submission, which the planners are restricted to.
        Assert.Equal([prompt, prompt, nightly], starts.Select(s => s["stateMachineArn"]!.GetValue<string>().Split(':')[^1]));
        Assert.Equal([$"job{ids[0]}-reference-20280920", $"job{ids[1]}-postprocessing-20280920", $"job{ids[2]}-nightrecovery-20280920"],
            starts.Select(s => s["name"]!.GetValue<string>()));
        var inputs = starts.Select(s => JsonNode.Parse(s["input"]!.GetValue<string>())!).ToList();
        Assert.Equal(["reference", "postprocessing", "nightrecovery"], inputs.Select(i => i["submission"]!["type"]!.GetValue<string>()));
        Assert.Equal(field.ToString(System.Globalization.CultureInfo.InvariantCulture), inputs[0]["submission"]!["inputs"]!["field"]!.GetValue<string>());
        Assert.Equal("20280920", inputs[1]["submission"]!["inputs"]!["procdate"]!.GetValue<string>());
        Assert.Equal(["refs", "pp"], inputs.Take(2).Select(i => i["tag"]!.GetValue<string>()));
        Assert.All(inputs, i => Assert.Null(i["procDate"]));
    }

    private string Machine(string prefix) => stack.Resources("AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith(prefix, StringComparison.Ordinal)).Id;

    /// <summary>The recorded sample with this call's route, path, body and path parameter.</summary>
    private static JsonObject Request(string routeKey, string path, string? body, (string Name, string Value)? parameter = null, string contentType = "application/json")
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(Rapid.Cdk.Configuration.RepositoryRoot.Find(),
            "Rapid.Functions.Tests", "Lambda", "Events", "http-api-v2-iam-post-jobs.json")))!.AsObject();
        sample["routeKey"] = routeKey;
        sample["rawPath"] = path;
        sample["requestContext"]!["routeKey"] = routeKey;
        sample["requestContext"]!["http"]!["method"] = routeKey[..routeKey.IndexOf(' ', StringComparison.Ordinal)];
        sample["requestContext"]!["http"]!["path"] = path;
        sample["headers"]!["content-type"] = contentType;
        sample["headers"]!.AsObject().Remove("content-length");
        if (body is null) sample.Remove("body");
        else sample["body"] = body;
        if (parameter is { } p) sample["pathParameters"] = new JsonObject { [p.Name] = p.Value };
        return sample;
    }

    private (int Status, JsonObject Headers, JsonObject Body) Call(string name, JsonObject request, TinySurvey survey, Uri? stepFunctions)
    {
        var function = stack.Resources("AWS::Lambda::Function").Single(f => f.Id.StartsWith($"Functions{name}", StringComparison.Ordinal)
            && OpsDatabaseTests.IsOperationsStep(f.Resource)).Id;
        var run = NodeScript.Run(Path.Combine("tools", "lambda-runtime", "invoke.mjs"),
            [
                "--template", stack.TemplatePath, "--function", function,
                "--runtime-host", Path.Combine(AppContext.BaseDirectory, "Rapid.LambdaRuntimeHost.dll"), "--db", survey.OwnerConnectionString,
                "--payload", request.ToJsonString(),
                .. stepFunctions is null ? Array.Empty<string>() : ["--env", $"{Rapid.Functions.Lambda.StepFunctionsClient.EndpointVariable}={stepFunctions}"],
            ], TimeSpan.FromMinutes(2));
        if (run.ExitCode != 0)
            throw new InvalidOperationException($"invoke.mjs {function} failed (exit {run.ExitCode}):\n{run.Stderr}\n{run.Stdout}");
        var result = JsonNode.Parse(run.Stdout)!.AsObject();
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        var response = result["response"]!;
        return (response["statusCode"]!.GetValue<int>(), response["headers"]!.AsObject(), JsonNode.Parse(response["body"]!.GetValue<string>())!.AsObject());
    }
}
