using System.Text.Json.Nodes;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

/// <summary>
/// Issue 12: Batch's job state-change events of the stack's job queue reach the operations record — an EventBridge rule →
/// an encrypted, TLS-only SQS queue with a dead-letter queue → the RecordBatchEvents Lambda with partial batch failures —
/// and a stuck event raises an alarm like the other dead-letter queue.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class BatchStateEventsTests(DefaultStack stack)
{
    private (string Id, JsonObject Resource) Queue(string name) =>
        stack.Resources("AWS::SQS::Queue").Single(q => q.Id.StartsWith($"BatchStateEvents{name}", StringComparison.Ordinal));

    [Fact]
    public void Every_state_change_of_the_job_queues_jobs_goes_to_the_events_queue()
    {
        var (_, rule) = stack.Resources("AWS::Events::Rule").Single(r => r.Id.StartsWith("BatchStateEventsJobStateChanges", StringComparison.Ordinal));
        var pattern = rule["Properties"]!["EventPattern"]!;
        Assert.Equal(["aws.batch"], pattern["source"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(["Batch Job State Change"], pattern["detail-type"]!.AsArray().Select(s => s!.GetValue<string>()));
        var jobQueue = stack.Resources("AWS::Batch::JobQueue").Single().Id;
        Assert.Equal(jobQueue, pattern["detail"]!["jobQueue"]![0]!["Fn::GetAtt"]![0]!.GetValue<string>());
        // Every status: no filter on it (the failed-jobs alarm's rule filters FAILED; this one records them all).
        Assert.Null(pattern["detail"]!["status"]);

        var target = Assert.Single(rule["Properties"]!["Targets"]!.AsArray())!;
        var (eventsQueue, _) = Queue("StateChanges");
        var (deadLetters, _) = Queue("DeadLetters");
        Assert.Equal(eventsQueue, target["Arn"]!["Fn::GetAtt"]![0]!.GetValue<string>());
        Assert.Equal(deadLetters, target["DeadLetterConfig"]!["Arn"]!["Fn::GetAtt"]![0]!.GetValue<string>());
    }

    [Fact]
    public void The_queues_are_encrypted_refuse_plain_http_and_only_the_rule_may_send()
    {
        var (eventsQueue, events) = Queue("StateChanges");
        var (deadLettersQueue, deadLetters) = Queue("DeadLetters");
        Assert.True(events["Properties"]!["SqsManagedSseEnabled"]!.GetValue<bool>());
        Assert.True(deadLetters["Properties"]!["SqsManagedSseEnabled"]!.GetValue<bool>());
        Assert.Equal(5, events["Properties"]!["RedrivePolicy"]!["maxReceiveCount"]!.GetValue<int>());
        Assert.Equal(deadLettersQueue, events["Properties"]!["RedrivePolicy"]!["deadLetterTargetArn"]!["Fn::GetAtt"]![0]!.GetValue<string>());
        // Six times the function's timeout (one minute).
        Assert.Equal(6 * 60, events["Properties"]!["VisibilityTimeout"]!.GetValue<int>());

        foreach (var queue in new[] { eventsQueue, deadLettersQueue })
        {
            var statements = stack.Resources("AWS::SQS::QueuePolicy")
                .Where(p => p.Resource["Properties"]!["Queues"]!.AsArray().Any(q => q!["Ref"]?.GetValue<string>() == queue))
                .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray()).ToList();
            Assert.Contains(statements, s => s!["Effect"]!.GetValue<string>() == "Deny"
                                             && s["Condition"]?["Bool"]?["aws:SecureTransport"]?.GetValue<string>() == "false");
            var sends = statements.Where(s => s!["Effect"]!.GetValue<string>() == "Allow"
                                              && s["Principal"]?["Service"]?.GetValue<string>() == "events.amazonaws.com").ToList();
            var send = Assert.Single(sends)!;
            Assert.Contains("BatchStateEventsJobStateChanges", send["Condition"]!["ArnEquals"]!["aws:SourceArn"]!.ToJsonString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RecordBatchEvents_reads_the_queue_reporting_partial_batch_failures()
    {
        var (eventsQueue, _) = Queue("StateChanges");
        var (_, mapping) = stack.Resources("AWS::Lambda::EventSourceMapping")
            .Single(m => m.Resource["Properties"]!["FunctionName"]!["Ref"]!.GetValue<string>().StartsWith("FunctionsRecordBatchEvents", StringComparison.Ordinal));
        var props = mapping["Properties"]!;
        Assert.Equal(eventsQueue, props["EventSourceArn"]!["Fn::GetAtt"]![0]!.GetValue<string>());
        Assert.Equal(["ReportBatchItemFailures"], props["FunctionResponseTypes"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.NotNull(props["ScalingConfig"]!["MaximumConcurrency"]);
        // Nothing is recorded before the schema exists.
        Assert.Contains(mapping["DependsOn"]!.AsArray(), d => d!.GetValue<string>().StartsWith("SchemaMigration", StringComparison.Ordinal));
    }

    [Fact]
    public void Events_stuck_in_the_dead_letter_queue_raise_an_alarm_to_the_topic()
    {
        var (deadLetters, _) = Queue("DeadLetters");
        var alarm = stack.Resources("AWS::CloudWatch::Alarm").Select(a => a.Resource["Properties"]!)
            .Single(a => a["MetricName"]?.GetValue<string>() == "ApproximateNumberOfMessagesVisible"
                         && a["Dimensions"]![0]!["Value"]!["Fn::GetAtt"]![0]!.GetValue<string>() == deadLetters);
        Assert.Equal(1, alarm["Threshold"]!.GetValue<double>());
        var topic = stack.Resources("AWS::SNS::Topic").Single().Id;
        Assert.Equal(topic, alarm["AlarmActions"]![0]!["Ref"]!.GetValue<string>());
    }
}
