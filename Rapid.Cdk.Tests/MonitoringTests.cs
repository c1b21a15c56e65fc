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
        var alarm = stack.Resources("AWS::CloudWatch::Alarm")
            .Select(a => a.Resource["Properties"]!)
            .Single(a => a["MetricName"]?.GetValue<string>() == metric);
        Assert.Equal(metricNamespace, alarm["Namespace"]!.GetValue<string>());
        Assert.Equal(topicId, alarm["AlarmActions"]![0]!["Ref"]!.GetValue<string>());
    }

    [Fact]
    public void Failed_batch_jobs_of_the_queue_are_counted()
    {
        var queueId = stack.Resources("AWS::Batch::JobQueue").Single().Id;
        var (_, rule) = stack.Resources("AWS::Events::Rule").Single();
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
        var alarm = stack.Resources("AWS::CloudWatch::Alarm").Select(a => a.Resource["Properties"]!)
            .Single(a => a["Metrics"] is not null);
        var metrics = alarm["Metrics"]!.AsArray();
        Assert.Equal(9, metrics.Count); // eight functions and the sum
        var expression = Assert.Single(metrics, m => m!["Expression"] is not null)!["Expression"]!.GetValue<string>();
        Assert.Equal("SUM(METRICS())", expression);
        Assert.Equal(8, metrics.Count(m => m!["MetricStat"]?["Metric"]?["MetricName"]?.GetValue<string>() == "Errors"));
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
