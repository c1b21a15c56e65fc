using System.Text.Json.Nodes;
using Rapid.Cdk.Resources;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

/// <summary>
/// Issue 13 (the job API on AWS) in the template: an HTTP API whose three routes all need IAM authorization, each a
/// payload-2.0 proxy to its λ; SubmitJob may start executions of the nightly, prompt and diff machines and nothing else of
/// Step Functions, and touch only a diff's inputs, config and job list; ReadJobs may start none and read only what it links; the one stage is throttled and
/// writes an access log to a log group with the stack's retention.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class JobApiTests(DefaultStack stack)
{
    private string Function(string name) => stack.Resources("AWS::Lambda::Function").Single(f => f.Id.StartsWith($"Functions{name}", StringComparison.Ordinal)
        && f.Resource["Properties"]!["Handler"]!.GetValue<string>().EndsWith($".{name}Handler::Handle", StringComparison.Ordinal)).Id;

    private List<JsonNode> Statements(string function)
    {
        var role = stack.Resources("AWS::Lambda::Function").Single(f => f.Id == function).Resource["Properties"]!["Role"]!["Fn::GetAtt"]![0]!.GetValue<string>();
        return [.. stack.Resources("AWS::IAM::Policy")
            .Where(p => p.Resource["Properties"]!["Roles"]!.AsArray().Any(r => r!["Ref"]?.GetValue<string>() == role))
            .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray()).Select(s => s!)];
    }

    [Fact]
    public void Every_route_needs_IAM_authorization_and_proxies_to_its_function_with_payload_format_2()
    {
        var routes = stack.Resources("AWS::ApiGatewayV2::Route").Select(r => r.Resource["Properties"]!).ToList();
        Assert.Equal(["DELETE /api/v1/jobs/{id}", "GET /api/v1/jobs/{id}", "GET /api/v1/nights/{procdate}", "GET /api/v1/openapi.json", "POST /api/v1/jobs"],
            routes.Select(r => r["RouteKey"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.All(routes, r => Assert.Equal("AWS_IAM", r["AuthorizationType"]!.GetValue<string>()));
        Assert.Equal(Rapid.Functions.Lambda.ReadJobsHandler.JobRoute, "GET /api/v1/jobs/{id}");
        Assert.Equal(Rapid.Functions.Lambda.ReadJobsHandler.NightRoute, "GET /api/v1/nights/{procdate}");
        Assert.Equal(Rapid.Functions.Lambda.ReadJobsHandler.OpenApiRoute, "GET /api/v1/openapi.json");
        Assert.Equal(Rapid.Functions.Lambda.SubmitJobHandler.CancelRoute, "DELETE /api/v1/jobs/{id}");

        var integrations = stack.Resources("AWS::ApiGatewayV2::Integration").ToDictionary(i => i.Id, i => i.Resource["Properties"]!);
        foreach (var route in routes)
        {
            var target = route["Target"]!.ToJsonString();
            var integration = integrations.Single(i => target.Contains(i.Key, StringComparison.Ordinal)).Value;
            Assert.Equal("AWS_PROXY", integration["IntegrationType"]!.GetValue<string>());
            Assert.Equal("2.0", integration["PayloadFormatVersion"]!.GetValue<string>());
            // Reads to ReadJobs; submitting and cancelling (which start and stop executions) to SubmitJob.
            var function = route["RouteKey"]!.GetValue<string>().StartsWith("GET", StringComparison.Ordinal) ? Function("ReadJobs") : Function("SubmitJob");
            Assert.Contains(function, integration["IntegrationUri"]!.ToJsonString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void SubmitJob_may_start_executions_of_the_three_machines_only_and_touch_only_a_diff_s_inputs_config_and_job_list()
    {
        var machines = stack.Resources("AWS::StepFunctions::StateMachine").Select(m => m.Id).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(3, machines.Count);
        var states = Statements(Function("SubmitJob")).Where(s => Actions(s).Any(a => a.StartsWith("states:", StringComparison.Ordinal))).ToList();
        Assert.Equal(["states:StartExecution", "states:StopExecution"], states.SelectMany(Actions).Distinct().Order(StringComparer.Ordinal));
        Assert.All(states, s => Assert.Single(Actions(s)));
        Assert.Equal(machines, states.Where(s => Actions(s).Contains("states:StartExecution"))
            .SelectMany(s => s["Resource"] is JsonArray many ? many.Select(r => r!) : [s["Resource"]!])
            .Select(r => r["Ref"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        // Stopping (the job API's cancel): the executions of those three machines, named by each machine's name.
        var stops = Resources(states, "states:StopExecution");
        Assert.Equal(3, stops.Count);
        Assert.All(stops, r => Assert.Contains(":execution:", r, StringComparison.Ordinal));
        Assert.All(machines, m => Assert.Single(stops, r => r.Contains(m, StringComparison.Ordinal)));
        var variables = stack.Resources("AWS::Lambda::Function").Single(f => f.Id == Function("SubmitJob")).Resource["Properties"]!["Environment"]!["Variables"]!;
        Assert.StartsWith("NightlyWorkflow", variables[Rapid.Functions.Lambda.SubmitJobHandler.NightlyStateMachineVariable]!["Ref"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith("PromptWorkflow", variables[Rapid.Functions.Lambda.SubmitJobHandler.PromptStateMachineVariable]!["Ref"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith("DiffWorkflow", variables[Rapid.Functions.Lambda.SubmitJobHandler.DiffStateMachineVariable]!["Ref"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(JobApi.NightlyStateMachineVariable, Rapid.Functions.Lambda.SubmitJobHandler.NightlyStateMachineVariable);
        Assert.Equal(JobApi.DiffStateMachineVariable, Rapid.Functions.Lambda.SubmitJobHandler.DiffStateMachineVariable);
        // Objects: it reads a diff's inputs under diff-inputs/ and writes a diff's job config and job list, all in the pipeline
        // bucket; nothing else (no products, logs or L2 files; no delete).
        var s3 = Statements(Function("SubmitJob")).Where(s => Actions(s).Any(a => a.StartsWith("s3:", StringComparison.Ordinal))).ToList();
        Assert.Equal(["s3:GetObject", "s3:ListBucket", "s3:PutObject"], s3.SelectMany(Actions).Distinct().Order(StringComparer.Ordinal));
        var reads = Assert.Single(Resources(s3, "s3:GetObject"));
        Assert.Contains("StoragePipelineFiles", reads, StringComparison.Ordinal);
        Assert.Contains("/" + OperationsFunctions.DiffInputsKeyPattern, reads, StringComparison.Ordinal);
        Assert.Equal("diff-inputs/", Rapid.Functions.Api.DiffOnAws.InputPrefix);
        var puts = Resources(s3, "s3:PutObject");
        Assert.Equal(2, puts.Count);
        Assert.All(puts, p => Assert.Contains("StoragePipelineFiles", p, StringComparison.Ordinal));
        Assert.Single(puts, p => p.Contains(OperationsFunctions.JobConfigKeyPattern, StringComparison.Ordinal));
        Assert.Single(puts, p => p.Contains(OperationsFunctions.DiffJobListKeyPattern, StringComparison.Ordinal));
        Assert.All(Resources(s3, "s3:ListBucket"), r => Assert.Contains("StoragePipelineFiles", r, StringComparison.Ordinal));
    }

    [Fact]
    public void ReadJobs_starts_nothing_and_may_read_only_the_products_logs_and_reports_it_links()
    {
        var statements = Statements(Function("ReadJobs"));
        Assert.DoesNotContain(statements.SelectMany(Actions), a => a.StartsWith("states:", StringComparison.Ordinal));
        var s3 = statements.Where(s => Actions(s).Any(a => a.StartsWith("s3:", StringComparison.Ordinal))).ToList();
        Assert.Equal(["s3:GetObject", "s3:ListBucket"], s3.SelectMany(Actions).Where(a => a.StartsWith("s3:", StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal));
        // A presigned link carries its signer's permissions: the role may read the linked keys and nothing else.
        var objects = Resources(s3, "s3:GetObject");
        Assert.Equal(3, objects.Count);
        Assert.Single(objects, o => o.Contains(OperationsFunctions.JobProductsKeyPattern, StringComparison.Ordinal) && o.Contains("StorageProducts", StringComparison.Ordinal));
        Assert.Single(objects, o => o.Contains(OperationsFunctions.NightReportKeyPattern, StringComparison.Ordinal) && o.Contains("StorageProducts", StringComparison.Ordinal));
        Assert.Single(objects, o => o.Contains(OperationsFunctions.JobLogKeyPattern, StringComparison.Ordinal) && o.Contains("StorageLogs", StringComparison.Ordinal));
    }

    /// <summary>The resources of the statements that allow <paramref name="action"/>, one string each.</summary>
    private static List<string> Resources(IEnumerable<JsonNode> statements, string action) =>
        [.. statements.Where(s => Actions(s).Contains(action))
            .SelectMany(s => s["Resource"] is JsonArray many ? many.Select(r => r!.ToJsonString()) : [s["Resource"]!.ToJsonString()])];

    [Fact]
    public void The_stage_is_throttled_and_writes_an_access_log_naming_the_caller()
    {
        var stage = Assert.Single(stack.Resources("AWS::ApiGatewayV2::Stage")).Resource["Properties"]!;
        Assert.Equal("$default", stage["StageName"]!.GetValue<string>());
        Assert.Equal(JobApi.RateLimit, stage["DefaultRouteSettings"]!["ThrottlingRateLimit"]!.GetValue<double>());
        Assert.Equal(JobApi.BurstLimit, stage["DefaultRouteSettings"]!["ThrottlingBurstLimit"]!.GetValue<int>());
        var logs = stage["AccessLogSettings"]!;
        var group = stack.Resources("AWS::Logs::LogGroup").Single(g => g.Id.StartsWith("JobApiAccessLogs", StringComparison.Ordinal));
        Assert.Contains(group.Id, logs["DestinationArn"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.NotNull(group.Resource["Properties"]!["RetentionInDays"]);
        Assert.Contains("$context.identity.userArn", logs["Format"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("$context.requestId", logs["Format"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Server_errors_of_the_API_raise_an_alarm_to_the_topic()
    {
        var api = Assert.Single(stack.Resources("AWS::ApiGatewayV2::Api")).Id;
        var alarm = stack.Resources("AWS::CloudWatch::Alarm").Select(a => a.Resource["Properties"]!)
            .Single(a => a["MetricName"]?.GetValue<string>() == "5xx");
        Assert.Equal("AWS/ApiGateway", alarm["Namespace"]!.GetValue<string>());
        Assert.Contains(api, alarm["Dimensions"]!.ToJsonString(), StringComparison.Ordinal);
        var topic = Assert.Single(stack.Resources("AWS::SNS::Topic")).Id;
        Assert.Contains(topic, alarm["AlarmActions"]!.ToJsonString(), StringComparison.Ordinal);
    }

    private static List<string> Actions(JsonNode statement) => statement["Action"] switch
    {
        JsonArray many => [.. many.Select(a => a!.GetValue<string>())],
        { } one => [one.GetValue<string>()],
        null => [],
    };
}
