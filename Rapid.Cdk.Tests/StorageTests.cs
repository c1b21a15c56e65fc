using Amazon.CDK.Assertions;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class StorageTests(DefaultStack stack)
{
    [Fact]
    public void CreatesFourBucketsAndTheirAccessLogsWhenNoDataBucketIsImported() =>
        stack.Template.ResourceCountIs("AWS::S3::Bucket", 5);

    [Fact]
    public void EveryBucketButTheAccessLogsLogsItsRequestsThere()
    {
        var accessLogs = stack.LogicalId(stack.Stack.Storage.AccessLogs);
        foreach (var (id, bucket) in stack.Resources("AWS::S3::Bucket").Where(b => b.Id != accessLogs))
        {
            var logging = bucket["Properties"]!["LoggingConfiguration"];
            Assert.True(logging is not null, $"{id} has no server access logs");
            Assert.Equal(accessLogs, logging!["DestinationBucketName"]!["Ref"]!.GetValue<string>());
        }
        // S3 delivers server access logs only to a bucket with S3-managed keys.
        var encryption = stack.Json["Resources"]![accessLogs]!["Properties"]!["BucketEncryption"]!["ServerSideEncryptionConfiguration"]![0]!;
        Assert.Equal("AES256", encryption["ServerSideEncryptionByDefault"]!["SSEAlgorithm"]!.GetValue<string>());
    }

    [Fact]
    public void EveryBucketIsEncryptedAndBlocksAllPublicAccess()
    {
        foreach (var (id, bucket) in stack.Resources("AWS::S3::Bucket"))
        {
            var props = bucket["Properties"]!;
            Assert.True(props["BucketEncryption"]?["ServerSideEncryptionConfiguration"] is not null, $"{id} has no encryption");
            var block = props["PublicAccessBlockConfiguration"]!;
            foreach (var setting in new[] { "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets" })
                Assert.True(block[setting]!.GetValue<bool>(), $"{id}: {setting} is not set");
        }
    }

    [Fact]
    public void EveryBucketPolicyDeniesPlainHttp()
    {
        var policies = stack.Resources("AWS::S3::BucketPolicy").ToList();
        Assert.Equal(5, policies.Count);
        foreach (var (id, policy) in policies)
        {
            var statements = policy["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray();
            Assert.Contains(statements, s =>
                s!["Effect"]!.GetValue<string>() == "Deny" &&
                s["Condition"]?["Bool"]?["aws:SecureTransport"]?.GetValue<string>() == "false");
        }
    }

    [Fact]
    public void ProductsAreVersionedAndOverwrittenVersionsExpire() =>
        stack.Template.HasResourceProperties("AWS::S3::Bucket", new Dictionary<string, object>
        {
            ["VersioningConfiguration"] = new Dictionary<string, object> { ["Status"] = "Enabled" },
            ["LifecycleConfiguration"] = new Dictionary<string, object>
            {
                ["Rules"] = Match.ArrayWith([Match.ObjectLike(new Dictionary<string, object>
                {
                    ["Id"] = "expire-overwritten-products",
                    ["NoncurrentVersionExpiration"] = new Dictionary<string, object> { ["NoncurrentDays"] = 30 },
                })]),
            },
        });

    [Theory]
    [InlineData("expire-logs", 180)]
    [InlineData("expire-intermediates", 60)]
    public void LogsAndIntermediatesExpire(string rule, int days) =>
        stack.Template.HasResourceProperties("AWS::S3::Bucket", new Dictionary<string, object>
        {
            ["LifecycleConfiguration"] = new Dictionary<string, object>
            {
                ["Rules"] = Match.ArrayWith([Match.ObjectLike(new Dictionary<string, object>
                {
                    ["Id"] = rule, ["ExpirationInDays"] = days, ["Status"] = "Enabled",
                })]),
            },
        });

    [Fact]
    public void BucketsSurviveStackDeletion()
    {
        foreach (var (id, bucket) in stack.Resources("AWS::S3::Bucket"))
            Assert.True(bucket["DeletionPolicy"]?.GetValue<string>() == "Retain", $"{id} would be deleted with the stack");
    }
}
