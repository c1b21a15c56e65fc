using System.Text.Json.Nodes;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

/// <summary>
/// Issue 13: an execution of either state machine that fails, times out or is stopped (no Catch runs for the last two)
/// reaches the CloseExecution Lambda — an EventBridge rule on Step Functions' status changes → an encrypted, TLS-only SQS
/// queue with a dead-letter queue → the function with partial batch failures — which may read and register the run's
/// manifests as registration does but start, stop or write nothing; stuck events raise an alarm.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class EndedExecutionsTests(DefaultStack stack)
{
    private (string Id, JsonObject Resource) Queue(string name) =>
        stack.Resources("AWS::SQS::Queue").Single(q => q.Id.StartsWith($"EndedExecutions{name}", StringComparison.Ordinal));

    private static IEnumerable<string> Strings(JsonNode? node) =>
        node is JsonArray a ? a.Select(x => x!.GetValue<string>()) : node is null ? [] : [node.GetValue<string>()];

    [Fact]
    public void Failed_timed_out_and_stopped_executions_of_the_three_machines_go_to_the_queue()
    {
        var (_, rule) = stack.Resources("AWS::Events::Rule").Single(r => r.Id.StartsWith("EndedExecutionsExecutionsEnded", StringComparison.Ordinal));
        var pattern = rule["Properties"]!["EventPattern"]!;
        Assert.Equal(["aws.states"], Strings(pattern["source"]));
        Assert.Equal(["Step Functions Execution Status Change"], Strings(pattern["detail-type"]));
        // The handler's own filter (Rapid.Functions.Lambda.EndedExecutionStatuses) and the rule agree; SUCCEEDED is not sent.
        Assert.Equal(Rapid.Functions.Lambda.EndedExecutionStatuses.All.Order(), Strings(pattern["detail"]!["status"]).Order());
        var machines = stack.Resources("AWS::StepFunctions::StateMachine").Select(m => m.Id).Order().ToList();
        // The nightly, prompt and diff machines: a submission any of them runs is closed when it ends without succeeding.
        Assert.Equal(3, machines.Count);
        Assert.Equal(machines, pattern["detail"]!["stateMachineArn"]!.AsArray().Select(m => m!["Ref"]!.GetValue<string>()).Order());

        var target = Assert.Single(rule["Properties"]!["Targets"]!.AsArray())!;
        Assert.Equal(Queue("Ended").Id, target["Arn"]!["Fn::GetAtt"]![0]!.GetValue<string>());
        Assert.Equal(Queue("DeadLetters").Id, target["DeadLetterConfig"]!["Arn"]!["Fn::GetAtt"]![0]!.GetValue<string>());
    }

    [Fact]
    public void The_queues_are_encrypted_refuse_plain_http_and_only_the_rule_may_send()
    {
        var (endedId, ended) = Queue("Ended");
        var (deadLettersId, deadLetters) = Queue("DeadLetters");
        Assert.True(ended["Properties"]!["SqsManagedSseEnabled"]!.GetValue<bool>());
        Assert.True(deadLetters["Properties"]!["SqsManagedSseEnabled"]!.GetValue<bool>());
        Assert.Equal(deadLettersId, ended["Properties"]!["RedrivePolicy"]!["deadLetterTargetArn"]!["Fn::GetAtt"]![0]!.GetValue<string>());
        // Six times the function's timeout (15 minutes: it may register a stage's open jobs).
        Assert.Equal(6 * 15 * 60, ended["Properties"]!["VisibilityTimeout"]!.GetValue<int>());
        foreach (var queue in new[] { endedId, deadLettersId })
        {
            var statements = stack.Resources("AWS::SQS::QueuePolicy")
                .Where(p => p.Resource["Properties"]!["Queues"]!.AsArray().Any(q => q!["Ref"]?.GetValue<string>() == queue))
                .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray()).ToList();
            Assert.Contains(statements, s => s!["Effect"]!.GetValue<string>() == "Deny"
                                             && s["Condition"]?["Bool"]?["aws:SecureTransport"]?.GetValue<string>() == "false");
            var send = Assert.Single(statements, s => s!["Effect"]!.GetValue<string>() == "Allow"
                                                      && s["Principal"]?["Service"]?.GetValue<string>() == "events.amazonaws.com")!;
            Assert.Contains("EndedExecutionsExecutionsEnded", send["Condition"]!["ArnEquals"]!["aws:SourceArn"]!.ToJsonString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void CloseExecution_reads_the_queue_after_the_schema_exists_and_stuck_events_raise_an_alarm()
    {
        var (_, mapping) = stack.Resources("AWS::Lambda::EventSourceMapping")
            .Single(m => m.Resource["Properties"]!["FunctionName"]!["Ref"]!.GetValue<string>().StartsWith("FunctionsCloseExecution", StringComparison.Ordinal));
        var props = mapping["Properties"]!;
        Assert.Equal(Queue("Ended").Id, props["EventSourceArn"]!["Fn::GetAtt"]![0]!.GetValue<string>());
        Assert.Equal(["ReportBatchItemFailures"], Strings(props["FunctionResponseTypes"]));
        Assert.Contains(mapping["DependsOn"]!.AsArray(), d => d!.GetValue<string>().StartsWith("SchemaMigration", StringComparison.Ordinal));

        var deadLetters = Queue("DeadLetters").Id;
        var alarm = stack.Resources("AWS::CloudWatch::Alarm").Select(a => a.Resource["Properties"]!)
            .Single(a => a["MetricName"]?.GetValue<string>() == "ApproximateNumberOfMessagesVisible"
                         && a["Dimensions"]![0]!["Value"]!["Fn::GetAtt"]![0]!.GetValue<string>() == deadLetters);
        Assert.Equal(stack.Resources("AWS::SNS::Topic").Single().Id, alarm["AlarmActions"]![0]!["Ref"]!.GetValue<string>());
    }

    /// <summary>
    /// Least privilege: registration's reads (job configs and lists, manifests, the jobs' logs, the products) and its one
    /// delete (superseded products), its secret and the SQS reads of its event source; no Step Functions or Batch action (it
    /// closes what an execution left in the database and never acts on executions or jobs) and no S3 write.
    /// </summary>
    [Fact]
    public void CloseExecution_may_register_as_registration_does_and_act_on_no_execution_or_job()
    {
        var (_, function) = stack.Resources("AWS::Lambda::Function")
            .Single(f => f.Resource["Properties"]!["Handler"]?.GetValue<string>() == "Rapid.Functions::Rapid.Functions.Lambda.CloseExecutionHandler::Handle");
        var role = function["Properties"]!["Role"]!["Fn::GetAtt"]![0]!.GetValue<string>();
        var statements = stack.Resources("AWS::IAM::Policy")
            .Where(p => p.Resource["Properties"]!["Roles"]!.AsArray().Any(r => r!["Ref"]?.GetValue<string>() == role))
            .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray()).Select(s => s!).ToList();
        var actions = statements.SelectMany(s => Strings(s["Action"])).Distinct().ToList();
        Assert.DoesNotContain(actions, a => a.StartsWith("states:", StringComparison.Ordinal) || a.StartsWith("batch:", StringComparison.Ordinal));
        Assert.DoesNotContain("s3:PutObject", actions);
        Assert.Contains("secretsmanager:GetSecretValue", actions);
        string Resources(string action) => string.Join(" ", statements.Where(s => Strings(s["Action"]).Contains(action)).Select(s => s["Resource"]!.ToJsonString()));
        Assert.Contains("StorageLogs", Resources("s3:GetObject"), StringComparison.Ordinal);
        Assert.Contains("/*/rapid_pipeline_job_*_log.txt", Resources("s3:GetObject"), StringComparison.Ordinal);
        Assert.Contains("StoragePipelineFiles", Resources("s3:GetObject"), StringComparison.Ordinal);
        Assert.DoesNotContain("StorageData", Resources("s3:GetObject"), StringComparison.Ordinal);
        var deletes = Resources("s3:DeleteObject");
        Assert.Contains("StorageProducts", deletes, StringComparison.Ordinal);
        Assert.DoesNotContain("StorageLogs", deletes, StringComparison.Ordinal);
    }
}
