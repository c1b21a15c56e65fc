using Amazon.CDK.Assertions;
using Rapid.Cdk.Tests.Support;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class StorageTests(DefaultStack stack)
{
    [Fact]
    public void Creates_four_buckets_and_their_access_logs_when_no_data_bucket_is_imported() =>
        stack.Template.ResourceCountIs("AWS::S3::Bucket", 5);

    [Fact]
    public void Every_bucket_but_the_access_logs_logs_its_requests_there()
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
    public void Every_bucket_is_encrypted_and_blocks_all_public_access()
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
    public void Every_bucket_policy_denies_plain_http()
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
    public void Products_are_versioned_and_overwritten_versions_expire() =>
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

    /// <summary>
    /// S3 lifecycle semantics (a rule applies to the keys its filter's prefix begins; an enabled Expiration
    /// rule deletes them after its days): job configs and job lists of any processing date expire after
    /// rapid:pipelineFilesRetentionDays, the settings profiles the plans read never do.
    /// </summary>
    [Theory]
    [InlineData("19900101", 60)]
    [InlineData("20280908", 60)]
    [InlineData("21991231", 60)]
    public void Job_configs_and_lists_expire_but_settings_profiles_stay(string procDate, int days)
    {
        var (_, bucket) = stack.Resources("AWS::S3::Bucket").Single(b => b.Id.StartsWith("StoragePipelineFiles", StringComparison.Ordinal));
        var rules = bucket["Properties"]!["LifecycleConfiguration"]!["Rules"]!.AsArray().Select(r => r!.AsObject()).ToList();
        int? ExpiresAfter(string key) => rules
            .Where(r => r["Status"]!.GetValue<string>() == "Enabled" && r["ExpirationInDays"] is not null)
            .Where(r => key.StartsWith(r["Prefix"]?.GetValue<string>() ?? "", StringComparison.Ordinal))
            .Select(r => (int?)r["ExpirationInDays"]!.GetValue<int>()).Min();

        var keys = new ObjectKeys(new Buckets("data", "pipeline", "products", "logs"));
        var date = ProcessingDate.Parse(procDate);
        Assert.Equal(days, ExpiresAfter(keys.JobConfig(date, 42).Key));
        Assert.Equal(days, ExpiresAfter(keys.JobList(date, 15, "plan").Key));
        Assert.Null(ExpiresAfter(Rapid.Cdk.Resources.OperationsFunctions.SettingsProfileKey("deep-h158")));
        Assert.Contains(rules, r => r["AbortIncompleteMultipartUpload"]?["DaysAfterInitiation"]?.GetValue<int>() == 7 && r["Prefix"] is null);
    }

    [Theory]
    [InlineData("expire-logs", 180)]
    public void Logs_expire(string rule, int days) =>
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
    public void Buckets_survive_stack_deletion()
    {
        foreach (var (id, bucket) in stack.Resources("AWS::S3::Bucket"))
            Assert.True(bucket["DeletionPolicy"]?.GetValue<string>() == "Retain", $"{id} would be deleted with the stack");
    }
}
