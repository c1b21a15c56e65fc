namespace Rapid.Cdk.Tests.Support;

/// <summary>Existing VPC, database and L2 data bucket imported by context; KMS bucket encryption; on-demand only; schedule off; a settings profile.</summary>
public sealed class ImportedResourcesStack() : SynthesizedStack(new Dictionary<string, object>
{
    ["rapid:vpcId"] = "vpc-0123456789abcdef0",
    ["rapid:vpcAvailabilityZones"] = "us-west-2a,us-west-2b",
    ["rapid:vpcPrivateSubnetIds"] = "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    ["rapid:dbHost"] = "ops-db.example.internal",
    ["rapid:dbPort"] = "5433",
    ["rapid:dbName"] = "rapidops",
    ["rapid:dbSecretArn"] = "arn:aws:secretsmanager:us-west-2:123456789012:secret:rapid-ops-AbCdEf",
    ["rapid:dataBucketName"] = "existing-roman-l2",
    ["rapid:useSpot"] = "false",
    ["rapid:bucketEncryption"] = "kms",
    ["rapid:scheduleEnabled"] = false,
    ["rapid:settingsProfile"] = SettingsProfile,
    ["rapid:functionsPublishDir"] = PlaceholderFunctionsBundle(),
})
{
    public const string SettingsProfile = "deep-h158";
}

[CollectionDefinition(Name)]
public sealed class ImportedResourcesStackCollection : ICollectionFixture<ImportedResourcesStack>
{
    public const string Name = "imported resources stack";
}
