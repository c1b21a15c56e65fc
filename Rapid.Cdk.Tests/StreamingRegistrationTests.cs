using Amazon.CDK.Assertions;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class StreamingRegistrationTests(DefaultStack stack)
{
    [Fact]
    public void Manifest_objects_in_the_products_bucket_notify_the_queue()
    {
        var (_, notifications) = stack.Resources("Custom::S3BucketNotifications")
            .Single(n => n.Resource["Properties"]!["BucketName"]!["Ref"]!.GetValue<string>().StartsWith("StorageProducts", StringComparison.Ordinal));
        var props = notifications["Properties"]!;
        Assert.Contains("StorageProducts", props["BucketName"]!["Ref"]!.GetValue<string>());
        var queueConfig = props["NotificationConfiguration"]!["QueueConfigurations"]!.AsArray().Single()!;
        Assert.Equal("s3:ObjectCreated:*", queueConfig["Events"]![0]!.GetValue<string>());
        var rules = queueConfig["Filter"]!["Key"]!["FilterRules"]!.AsArray();
        Assert.Contains(rules, r => r!["Name"]!.GetValue<string>() == "suffix" && r["Value"]!.GetValue<string>() == ".json");
        Assert.Contains("StreamingRegistrationManifests", queueConfig["QueueArn"]!["Fn::GetAtt"]![0]!.GetValue<string>());
    }

    [Fact]
    public void Undeliverable_manifests_go_to_a_dead_letter_queue_after_five_receives() =>
        stack.Template.HasResourceProperties("AWS::SQS::Queue", new Dictionary<string, object>
        {
            ["RedrivePolicy"] = Match.ObjectLike(new Dictionary<string, object> { ["maxReceiveCount"] = 5 }),
            ["SqsManagedSseEnabled"] = true,
        });

    [Fact]
    public void Register_stream_reports_partial_batch_failures_with_capped_concurrency() =>
        stack.Template.HasResourceProperties("AWS::Lambda::EventSourceMapping", new Dictionary<string, object>
        {
            ["FunctionResponseTypes"] = new[] { "ReportBatchItemFailures" },
            ["ScalingConfig"] = new Dictionary<string, object> { ["MaximumConcurrency"] = 5 },
            ["FunctionName"] = Match.ObjectLike(new Dictionary<string, object>
            {
                ["Ref"] = Match.StringLikeRegexp("FunctionsRegisterStream"),
            }),
        });

    [Fact]
    public void Queue_visibility_is_six_times_the_function_timeout() =>
        stack.Template.HasResourceProperties("AWS::SQS::Queue", new Dictionary<string, object>
        {
            ["VisibilityTimeout"] = 6 * 120,
        });
}
