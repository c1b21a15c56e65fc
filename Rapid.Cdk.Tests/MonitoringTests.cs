using Amazon.CDK.Assertions;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class MonitoringTests(DefaultStack stack)
{
    [Theory]
    [InlineData("AWS/States", "ExecutionsFailed")]
    [InlineData("AWS/States", "ExecutionsTimedOut")]
    [InlineData("AWS/SQS", "ApproximateNumberOfMessagesVisible")]
    [InlineData("Rapid", "BatchJobsFailed")]
    public void Alarm_watches_metric_and_notifies_the_topic(string metricNamespace, string metric)
    {
        var topicId = stack.Resources("AWS::SNS::Topic").Single().Id;
        // The four dead-letter queues (manifests, Batch state-change events, L2 arrivals, ended executions) have an alarm each, and each of the two
        // state machines (nightly, prompt) its failed and timed-out alarms.
        var alarms = stack.Resources("AWS::CloudWatch::Alarm")
            .Select(a => a.Resource["Properties"]!)
            .Where(a => a["MetricName"]?.GetValue<string>() == metric).ToList();
        Assert.Equal(metricNamespace switch { "AWS/SQS" => 4, "AWS/States" => 2, _ => 1 }, alarms.Count);
        foreach (var alarm in alarms)
        {
            Assert.Equal(metricNamespace, alarm["Namespace"]!.GetValue<string>());
            Assert.Equal(topicId, alarm["AlarmActions"]![0]!["Ref"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Failed_batch_jobs_of_the_queue_are_counted()
    {
        var queueId = stack.Resources("AWS::Batch::JobQueue").Single().Id;
        var (_, rule) = stack.Resources("AWS::Events::Rule").Single(r => r.Id.StartsWith("MonitoringBatchJobFailed", StringComparison.Ordinal));
        var pattern = rule["Properties"]!["EventPattern"]!;
        Assert.Equal("aws.batch", pattern["source"]![0]!.GetValue<string>());
        Assert.Equal("FAILED", pattern["detail"]!["status"]![0]!.GetValue<string>());
        Assert.Equal(queueId, pattern["detail"]!["jobQueue"]![0]!["Fn::GetAtt"]![0]!.GetValue<string>());
        stack.Template.HasResourceProperties("AWS::Logs::MetricFilter", new Dictionary<string, object>
        {
            ["MetricTransformations"] = new[]
            {
                Match.ObjectLike(new Dictionary<string, object> { ["MetricNamespace"] = "Rapid", ["MetricName"] = "BatchJobsFailed" }),
            },
        });
    }

    /// <summary>
    /// Defect 9 of issue 9. CloudWatch metric math aligns the operands of + by timestamp: "e0 + e1" has no data point
    /// where either series has none, so an idle function would hide another's errors. SUM(METRICS())
    /// adds whatever series have a point.
    /// </summary>
    [Fact]
    public void Lambda_errors_of_every_step_raise_an_alarm_whatever_the_others_did()
    {
        // An alarm's expression takes at most 10 metrics: the state machine's nine functions, the queue consumers, the job API's two.
        var alarms = stack.Resources("AWS::CloudWatch::Alarm").Select(a => a.Resource["Properties"]!)
            .Where(a => a["Metrics"] is not null).ToList();
        Assert.Equal(3, alarms.Count);
        var functions = new List<string>();
        foreach (var alarm in alarms)
        {
            var metrics = alarm["Metrics"]!.AsArray();
            var expression = Assert.Single(metrics, m => m!["Expression"] is not null)!["Expression"]!.GetValue<string>();
            Assert.Equal("SUM(METRICS())", expression);
            var errors = metrics.Where(m => m!["MetricStat"]?["Metric"]?["MetricName"]?.GetValue<string>() == "Errors").ToList();
            Assert.Equal(metrics.Count - 1, errors.Count);
            functions.AddRange(errors.Select(m => m!["MetricStat"]!["Metric"]!["Dimensions"]![0]!["Value"]!["Ref"]!.GetValue<string>()));
        }
        // Every operations step but the deploy-time migration, once.
        var steps = stack.Resources("AWS::Lambda::Function").Where(f => OpsDatabaseTests.IsOperationsStep(f.Resource)
            && !f.Resource["Properties"]!["Handler"]!.GetValue<string>().Contains("MigrateHandler", StringComparison.Ordinal)).Select(f => f.Id);
        Assert.Equal(steps.Order(), functions.Order());
    }

    [Fact]
    public void Alarm_email_is_subscribed_when_configured() =>
        stack.Template.HasResourceProperties("AWS::SNS::Subscription", new Dictionary<string, object>
        {
            ["Protocol"] = "email", ["Endpoint"] = "ops@example.org",
        });

    [Fact]
    public void Night_dashboard_exists() =>
        stack.Template.HasResourceProperties("AWS::CloudWatch::Dashboard", new Dictionary<string, object>
        {
            ["DashboardName"] = "Rapid-night",
        });
}
