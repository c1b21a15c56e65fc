using System.Text.Json.Nodes;
using Rapid.Cdk.Tests.Support;
using Rapid.Cdk.Workflow;

namespace Rapid.Cdk.Tests;

/// <summary>
/// Issue 13 (AWS prompt processing) in the template: S3 arrivals of the data bucket → an encrypted queue with a dead-letter
/// queue → the Ingest λ (partial batch failures) → executions of {stack}-prompt, whose definition is the nightly steps for
/// one image (references, science, post-processing, Summarize without the report) with the nightly failure path; the
/// Ingest role may start executions of that machine only and read the data bucket only; alarms on the dead letters and on
/// the prompt machine's failures. The definition passes asl-validator.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class PromptWorkflowTests(DefaultStack stack, SecondStack small)
{
    private JsonObject Definition() => StateMachineDefinition.Parse(stack, "PromptWorkflow");

    private JsonObject State(string name) => Definition()["States"]![name]!.AsObject();

    private (string Id, JsonObject Resource) Queue(string name) =>
        stack.Resources("AWS::SQS::Queue").Single(q => q.Id.StartsWith($"PromptIngest{name}", StringComparison.Ordinal));

    private string IngestFunction() => stack.Resources("AWS::Lambda::Function").Single(f => f.Id.StartsWith("FunctionsIngest", StringComparison.Ordinal)
        && !f.Id.Contains("Logs", StringComparison.Ordinal)).Id;

    [Fact]
    public void The_prompt_machine_is_named_after_the_stack_and_its_definition_is_valid_ASL()
    {
        var (_, machine) = stack.Resources("AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith("PromptWorkflow", StringComparison.Ordinal));
        Assert.Equal("Rapid-prompt", machine["Properties"]!["StateMachineName"]!.GetValue<string>());
        Assert.Equal("STANDARD", machine["Properties"]!["StateMachineType"]!.GetValue<string>());
        // Three Batch stages at their longest (12 h) plus two hours: within the 50-hour run lease a prompt execution takes too.
        Assert.Equal(3 * 12 * 3600 + 2 * 3600, Definition()["TimeoutSeconds"]!.GetValue<int>());
        var validation = AslValidator.Validate(StateMachineDefinition.Extract(stack, "PromptWorkflow"));
        Assert.True(validation.ExitCode == 0, validation.Output);
    }

    [Fact]
    public void One_image_goes_through_references_science_post_processing_and_a_summary_without_the_report()
    {
        var definition = Definition();
        Assert.Equal("ResolveWindow", definition["StartAt"]!.GetValue<string>());
        Assert.Equal("Prompt", State("ResolveWindow")["Next"]!.GetValue<string>());
        var branch = State("Prompt")["Branches"]![0]!;
        Assert.Equal("PlanReferences", branch["StartAt"]!.GetValue<string>());
        var states = branch["States"]!.AsObject();
        foreach (var name in new[] { "PlanReferences", "RunReferencesSingle", "RegisterReferences", "PlanScience", "RunScienceSingle", "RegisterScience",
                                      "PlanRetryScience", "PlanPostProc", "RegisterPostProc", "Summarize" })
            Assert.True(states.ContainsKey(name), $"{name} is not in the prompt branch");
        // No night recovery (a night's job) and no SNS message per image.
        Assert.DoesNotContain(states, s => s.Key.Contains("NightRecovery", StringComparison.Ordinal) || s.Key.StartsWith("Notify", StringComparison.Ordinal));
        Assert.Equal("PlanPostProc", states["AnyScienceRetry"]!["Default"]!.GetValue<string>());
        var summarize = states["Summarize"]!;
        Assert.True(summarize["End"]!.GetValue<bool>());
        Assert.False(summarize["Parameters"]!["report"]!.GetValue<bool>());
    }

    [Fact]
    public void ResolveWindow_records_the_execution_and_waits_while_another_execution_holds_the_date()
    {
        var resolve = State("ResolveWindow");
        var payload = resolve["Parameters"]!;
        Assert.Equal(("$", "$$.Execution.Id"), (payload["input.$"]!.GetValue<string>(), payload["executionId.$"]!.GetValue<string>()));
        var retry = resolve["Retry"]!.AsArray().Single(r => r!["ErrorEquals"]!.AsArray().Any(e => e!.GetValue<string>() == PromptWorkflow.LeaseHeldError))!;
        Assert.Equal(PromptWorkflow.LeaseWait.MaxAttempts, retry["MaxAttempts"]!.GetValue<int>());
        Assert.Equal(PromptWorkflow.LeaseWait.IntervalSeconds, retry["IntervalSeconds"]!.GetValue<int>());
        // Only the lease: a bad input fails at once.
        Assert.Single(retry["ErrorEquals"]!.AsArray());
    }

    [Fact]
    public void A_failure_anywhere_releases_the_date_and_fails_the_execution_with_its_error()
    {
        var caught = Assert.Single(State("Prompt")["Catch"]!.AsArray())!;
        Assert.Equal(["States.ALL"], caught["ErrorEquals"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.Equal("ReleaseNight", caught["Next"]!.GetValue<string>());
        Assert.Equal("PromptFailed", State("ReleaseNight")["Next"]!.GetValue<string>());
        Assert.Equal("$.failure.Error", State("PromptFailed")["ErrorPath"]!.GetValue<string>());
    }

    [Fact]
    public void FITS_objects_created_in_the_data_bucket_go_to_an_encrypted_queue_with_dead_letters()
    {
        var (arrivals, queue) = Queue("Arrivals");
        var (deadLetters, dlq) = Queue("DeadLetters");
        Assert.True(queue["Properties"]!["SqsManagedSseEnabled"]!.GetValue<bool>());
        Assert.True(dlq["Properties"]!["SqsManagedSseEnabled"]!.GetValue<bool>());
        Assert.Equal(5, queue["Properties"]!["RedrivePolicy"]!["maxReceiveCount"]!.GetValue<int>());
        Assert.Equal(deadLetters, queue["Properties"]!["RedrivePolicy"]!["deadLetterTargetArn"]!["Fn::GetAtt"]![0]!.GetValue<string>());

        var dataBucket = stack.Resources("AWS::S3::Bucket").Single(b => b.Id.StartsWith("StorageData", StringComparison.Ordinal)).Id;
        var notifications = stack.Resources("Custom::S3BucketNotifications")
            .Single(n => n.Resource["Properties"]!["BucketName"]!["Ref"]?.GetValue<string>() == dataBucket).Resource["Properties"]!["NotificationConfiguration"]!;
        var configurations = notifications["QueueConfigurations"]!.AsArray();
        Assert.Equal(Rapid.Cdk.Configuration.PromptSettings.FitsSuffixes.Order(),
            configurations.Select(c => c!["Filter"]!["Key"]!["FilterRules"]!.AsArray().Single(r => r!["Name"]!.GetValue<string>() == "suffix")!["Value"]!.GetValue<string>()).Order());
        Assert.All(configurations, c =>
        {
            Assert.Equal(["s3:ObjectCreated:*"], c!["Events"]!.AsArray().Select(e => e!.GetValue<string>()));
            Assert.Equal(arrivals, c["QueueArn"]!["Fn::GetAtt"]![0]!.GetValue<string>());
        });
    }

    [Fact]
    public void Ingest_reads_the_arrivals_reporting_partial_batch_failures_after_the_schema_exists()
    {
        var (arrivals, _) = Queue("Arrivals");
        var (_, mapping) = stack.Resources("AWS::Lambda::EventSourceMapping")
            .Single(m => m.Resource["Properties"]!["FunctionName"]!["Ref"]!.GetValue<string>().StartsWith("FunctionsIngest", StringComparison.Ordinal));
        var props = mapping["Properties"]!;
        Assert.Equal(arrivals, props["EventSourceArn"]!["Fn::GetAtt"]![0]!.GetValue<string>());
        Assert.Equal(["ReportBatchItemFailures"], props["FunctionResponseTypes"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(5, props["ScalingConfig"]!["MaximumConcurrency"]!.GetValue<int>());
        Assert.Contains(mapping["DependsOn"]!.AsArray(), d => d!.GetValue<string>().StartsWith("SchemaMigration", StringComparison.Ordinal));
    }

    [Fact]
    public void Ingest_may_start_executions_of_the_prompt_machine_only_and_read_but_not_write_the_data_bucket()
    {
        var function = stack.Resources("AWS::Lambda::Function").Single(f => f.Id == IngestFunction()).Resource["Properties"]!;
        var machine = stack.Resources("AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith("PromptWorkflow", StringComparison.Ordinal)).Id;
        Assert.Equal(machine, function["Environment"]!["Variables"]![PromptWorkflow.IngestPromptVariable]!["Ref"]!.GetValue<string>());
        Assert.Equal(Rapid.Functions.Lambda.IngestHandler.PromptStateMachineVariable, PromptWorkflow.IngestPromptVariable);

        var role = function["Role"]!["Fn::GetAtt"]![0]!.GetValue<string>();
        var statements = stack.Resources("AWS::IAM::Policy")
            .Where(p => p.Resource["Properties"]!["Roles"]!.AsArray().Any(r => r!["Ref"]?.GetValue<string>() == role))
            .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray()).Select(s => s!).ToList();
        var starts = statements.Where(s => Actions(s).Any(a => a.StartsWith("states:", StringComparison.Ordinal))).ToList();
        var start = Assert.Single(starts);
        Assert.Equal(["states:StartExecution"], Actions(start));
        Assert.Equal(machine, start["Resource"]!["Ref"]!.GetValue<string>());

        var s3 = statements.SelectMany(Actions).Where(a => a.StartsWith("s3:", StringComparison.Ordinal)).Distinct().Order().ToList();
        Assert.Equal(["s3:GetObject", "s3:ListBucket"], s3);
        var dataBucket = stack.Resources("AWS::S3::Bucket").Single(b => b.Id.StartsWith("StorageData", StringComparison.Ordinal)).Id;
        Assert.All(statements.Where(s => Actions(s).Any(a => a.StartsWith("s3:", StringComparison.Ordinal))),
            s => Assert.Contains(dataBucket, s["Resource"]!.ToJsonString(), StringComparison.Ordinal));
    }

    [Fact]
    public void Dead_letters_and_failed_or_timed_out_prompt_executions_raise_alarms_to_the_topic()
    {
        var (deadLetters, _) = Queue("DeadLetters");
        var machine = stack.Resources("AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith("PromptWorkflow", StringComparison.Ordinal)).Id;
        var topic = stack.Resources("AWS::SNS::Topic").Single().Id;
        var alarms = stack.Resources("AWS::CloudWatch::Alarm").Select(a => a.Resource["Properties"]!).ToList();
        var deadLetterAlarm = alarms.Single(a => a["MetricName"]?.GetValue<string>() == "ApproximateNumberOfMessagesVisible"
                                                 && a["Dimensions"]![0]!["Value"]!["Fn::GetAtt"]![0]!.GetValue<string>() == deadLetters);
        var machineAlarms = alarms.Where(a => a["Dimensions"]?[0]?["Value"]?["Ref"]?.GetValue<string>() == machine).ToList();
        Assert.Equal(["ExecutionsFailed", "ExecutionsTimedOut"], machineAlarms.Select(a => a["MetricName"]!.GetValue<string>()).Order());
        Assert.All(machineAlarms.Append(deadLetterAlarm), a =>
        {
            Assert.Equal(1, a["Threshold"]!.GetValue<double>());
            Assert.Equal(topic, a["AlarmActions"]![0]!["Ref"]!.GetValue<string>());
        });
    }

    /// <summary>
    /// The settings (the second stack: rapid:promptProcessing false, rapid:l2KeyPrefix, rapid:promptIngestConcurrency): files
    /// are still ingested, under the prefix only, at the concurrency given, but start no execution (no variable, no grant).
    /// </summary>
    [Fact]
    public void With_prompt_processing_off_files_are_ingested_under_the_prefix_but_start_nothing()
    {
        var (id, ingest) = small.Resources("AWS::Lambda::Function").Single(f => f.Id.StartsWith("FunctionsIngest", StringComparison.Ordinal)
            && OpsDatabaseTests.IsOperationsStep(f.Resource));
        Assert.Null(ingest["Properties"]!["Environment"]!["Variables"]![PromptWorkflow.IngestPromptVariable]);
        var role = ingest["Properties"]!["Role"]!["Fn::GetAtt"]![0]!.GetValue<string>();
        Assert.DoesNotContain(small.Resources("AWS::IAM::Policy")
                .Where(p => p.Resource["Properties"]!["Roles"]!.AsArray().Any(r => r!["Ref"]?.GetValue<string>() == role))
                .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray()).SelectMany(s => Actions(s!)),
            a => a.StartsWith("states:", StringComparison.Ordinal));
        var (_, mapping) = small.Resources("AWS::Lambda::EventSourceMapping")
            .Single(m => m.Resource["Properties"]!["FunctionName"]!["Ref"]!.GetValue<string>() == id);
        Assert.Equal(SecondStack.PromptIngestConcurrency, mapping["Properties"]!["ScalingConfig"]!["MaximumConcurrency"]!.GetValue<int>());
        var dataBucket = small.Resources("AWS::S3::Bucket").Single(b => b.Id.StartsWith("StorageData", StringComparison.Ordinal)).Id;
        var rules = small.Resources("Custom::S3BucketNotifications")
            .Single(n => n.Resource["Properties"]!["BucketName"]!["Ref"]?.GetValue<string>() == dataBucket)
            .Resource["Properties"]!["NotificationConfiguration"]!["QueueConfigurations"]!.AsArray()
            .Select(c => c!["Filter"]!["Key"]!["FilterRules"]!.AsArray().Single(r => r!["Name"]!.GetValue<string>() == "prefix")!["Value"]!.GetValue<string>());
        Assert.All(rules, r => Assert.Equal(SecondStack.L2KeyPrefix, r));
    }

    private static List<string> Actions(JsonNode statement) => statement["Action"] switch
    {
        JsonArray a => a.Select(x => x!.GetValue<string>()).ToList(),
        JsonValue v => [v.GetValue<string>()],
        _ => [],
    };
}
