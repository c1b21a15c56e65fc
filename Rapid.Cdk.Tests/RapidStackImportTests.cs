using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

/// <summary>RapidStack with an existing VPC, database and data bucket given by context, and KMS-encrypted buckets.</summary>
[Collection(ImportedResourcesStackCollection.Name)]
public sealed class RapidStackImportTests(ImportedResourcesStack stack)
{
    [Fact]
    public void Creates_no_vpc_database_or_proxy()
    {
        Assert.Empty(stack.Resources("AWS::EC2::VPC"));
        Assert.Empty(stack.Resources("AWS::RDS::DBInstance"));
        Assert.Empty(stack.Resources("AWS::RDS::DBProxy"));
        // Only the operations role's secret: the master secret is the imported one.
        var (_, secret) = Assert.Single(stack.Resources("AWS::SecretsManager::Secret"));
        Assert.Equal("{\"username\":\"rapid_ops\"}", secret["Properties"]!["GenerateSecretString"]!["SecretStringTemplate"]!.GetValue<string>());
    }

    [Fact]
    public void Functions_use_the_imported_endpoint_and_secret_in_the_imported_subnets()
    {
        foreach (var (_, function) in stack.Resources("AWS::Lambda::Function").Where(f => OpsDatabaseTests.IsOperationsStep(f.Resource)))
        {
            var props = function["Properties"]!;
            var variables = props["Environment"]!["Variables"]!;
            Assert.Equal("ops-db.example.internal", variables["RAPID_DB_HOST"]!.GetValue<string>());
            Assert.Equal("5433", variables["RAPID_DB_PORT"]!.GetValue<string>());
            Assert.Equal("rapidops", variables["RAPID_DB_NAME"]!.GetValue<string>());
            var isMigrate = props["Handler"]!.GetValue<string>().Contains("MigrateHandler", StringComparison.Ordinal);
            if (isMigrate)
                Assert.Equal("arn:aws:secretsmanager:us-west-2:123456789012:secret:rapid-ops-AbCdEf", variables["RAPID_DB_SECRET_ID"]!.GetValue<string>());
            else
                Assert.Equal(stack.Resources("AWS::SecretsManager::Secret").Single().Id, variables["RAPID_DB_SECRET_ID"]!["Ref"]!.GetValue<string>());
            Assert.Equal("existing-roman-l2", variables["RAPID_DATA_BUCKET"]!.GetValue<string>());
            Assert.Equal(["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
                props["VpcConfig"]!["SubnetIds"]!.AsArray().Select(s => s!.GetValue<string>()));
        }
    }

    [Fact]
    public void Only_the_data_bucket_is_not_created() => Assert.Equal(4, stack.Resources("AWS::S3::Bucket").Count()); // with the access logs

    [Fact]
    public void Without_spot_the_queue_has_only_on_demand()
    {
        var environment = stack.Resources("AWS::Batch::ComputeEnvironment").Single().Resource;
        Assert.Equal("EC2", environment["Properties"]!["ComputeResources"]!["Type"]!.GetValue<string>());
    }

    [Fact]
    public void Disabled_schedule_stays_deployed_but_off() =>
        Assert.Equal("DISABLED", stack.Resources("AWS::Scheduler::Schedule").Single().Resource["Properties"]!["State"]!.GetValue<string>());

    [Fact]
    public void Buckets_use_the_stack_key_with_bucket_keys()
    {
        var keyId = stack.Resources("AWS::KMS::Key").Single().Id;
        // All but the access logs' bucket, which S3 log delivery allows only with S3-managed keys.
        var accessLogs = stack.LogicalId(stack.Stack.Storage.AccessLogs);
        foreach (var (id, bucket) in stack.Resources("AWS::S3::Bucket").Where(b => b.Id != accessLogs))
        {
            var rule = bucket["Properties"]!["BucketEncryption"]!["ServerSideEncryptionConfiguration"]![0]!;
            Assert.Equal("aws:kms", rule["ServerSideEncryptionByDefault"]!["SSEAlgorithm"]!.GetValue<string>());
            Assert.Equal(keyId, rule["ServerSideEncryptionByDefault"]!["KMSMasterKeyID"]!["Fn::GetAtt"]![0]!.GetValue<string>());
            Assert.True(rule["BucketKeyEnabled"]!.GetValue<bool>(), $"{id} has no bucket key");
        }
    }

    [Fact]
    public void Key_use_is_granted_on_the_key_only_and_without_wildcard_actions()
    {
        var keyId = stack.Resources("AWS::KMS::Key").Single().Id;
        var kmsStatements = stack.Resources("AWS::IAM::Policy")
            .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray())
            .Where(s => s!["Action"]!.ToJsonString().Contains("kms:", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(kmsStatements);
        foreach (var statement in kmsStatements)
        {
            Assert.DoesNotContain("*", statement!["Action"]!.ToJsonString());
            Assert.Equal(keyId, statement["Resource"]!["Fn::GetAtt"]![0]!.GetValue<string>());
        }
    }

    [Fact]
    public void Imported_database_is_migrated_on_deploy_too()
    {
        var (schemaId, schema) = stack.Resources(Rapid.Cdk.Resources.SchemaMigration.ResourceType).Single();
        var migrateId = stack.Resources("AWS::Lambda::Function")
            .Single(f => f.Resource["Properties"]!["Handler"]?.GetValue<string>() == "Rapid.Functions::Rapid.Functions.Lambda.MigrateHandler::Handle").Id;
        Assert.Equal(migrateId, schema["Properties"]!["ServiceToken"]!["Fn::GetAtt"]![0]!.GetValue<string>());
        var (_, machine) = stack.Resources("AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith("NightlyWorkflow", StringComparison.Ordinal));
        Assert.Contains(schemaId, machine["DependsOn"]!.ToJsonString());
    }

    /// <summary>
    /// rapid:settingsProfile names a profile kept in the pipeline bucket (settings/NAME.json): the plan steps and the job
    /// API's SubmitJob (which plans a diff) get its object URI in the variable Rapid.Functions reads; no other function gets it.
    /// </summary>
    [Fact]
    public void The_plan_steps_get_the_settings_profile_the_stack_names()
    {
        Assert.Equal(Rapid.Functions.Lambda.LambdaEnvironment.SettingsProfileVariable, Rapid.Cdk.Resources.OperationsFunctions.SettingsProfileVariable);
        var pipelineBucket = stack.Resources("AWS::S3::Bucket").Single(b => b.Id.StartsWith("StoragePipelineFiles", StringComparison.Ordinal)).Id;
        var given = new List<string>();
        foreach (var (id, function) in stack.Resources("AWS::Lambda::Function").Where(f => OpsDatabaseTests.IsOperationsStep(f.Resource)))
        {
            var profile = function["Properties"]!["Environment"]!["Variables"]![Rapid.Cdk.Resources.OperationsFunctions.SettingsProfileVariable];
            if (!id.StartsWith("FunctionsPlan", StringComparison.Ordinal) && !id.StartsWith("FunctionsSubmitJob", StringComparison.Ordinal))
            {
                Assert.True(profile is null, $"{id} does not plan jobs but gets the settings profile");
                continue;
            }
            var parts = profile!["Fn::Join"]![1]!.AsArray();
            Assert.Equal("s3://", parts[0]!.GetValue<string>());
            Assert.Equal(pipelineBucket, parts[1]!["Ref"]!.GetValue<string>());
            Assert.Equal($"/settings/{ImportedResourcesStack.SettingsProfile}.json", parts[2]!.GetValue<string>());
            given.Add(id);
        }
        // SubmitJob plans a diff with the profile: it may read that one object of the pipeline bucket besides a diff's inputs.
        var submitJob = Assert.Single(given, id => id.StartsWith("FunctionsSubmitJob", StringComparison.Ordinal));
        var role = stack.Resources("AWS::Lambda::Function").Single(f => f.Id == submitJob).Resource["Properties"]!["Role"]!["Fn::GetAtt"]![0]!.GetValue<string>();
        var reads = stack.Resources("AWS::IAM::Policy")
            .Where(p => p.Resource["Properties"]!["Roles"]!.AsArray().Any(r => r!["Ref"]?.GetValue<string>() == role))
            .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray())
            .Where(st => st!["Action"]!.ToJsonString().Contains("s3:GetObject", StringComparison.Ordinal))
            .Select(st => st!["Resource"]!.ToJsonString()).ToList();
        Assert.Single(reads, r => r.Contains(pipelineBucket, StringComparison.Ordinal)
            && r.Contains($"/settings/{ImportedResourcesStack.SettingsProfile}.json", StringComparison.Ordinal));
    }
}
