using Amazon.CDK.Assertions;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class OpsDatabaseTests(DefaultStack stack)
{
    [Fact]
    public void InstanceIsPostgres15EncryptedBackedUpAndDeletionProtected()
    {
        var (_, instance) = stack.Resources("AWS::RDS::DBInstance").Single();
        var props = instance["Properties"]!;
        Assert.Equal("postgres", props["Engine"]!.GetValue<string>());
        Assert.StartsWith("15", props["EngineVersion"]!.GetValue<string>());
        Assert.True(props["StorageEncrypted"]!.GetValue<bool>());
        Assert.True(props["DeletionProtection"]!.GetValue<bool>());
        Assert.Equal(14, props["BackupRetentionPeriod"]!.GetValue<int>());
        Assert.False(props["PubliclyAccessible"]?.GetValue<bool>() ?? false);
        Assert.Equal("Snapshot", instance["DeletionPolicy"]!.GetValue<string>());
    }

    [Fact]
    public void InstanceLivesInIsolatedSubnets()
    {
        var (_, group) = stack.Resources("AWS::RDS::DBSubnetGroup").Single();
        foreach (var subnet in group["Properties"]!["SubnetIds"]!.AsArray())
            Assert.Contains("database", subnet!["Ref"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ServerRequiresTls() =>
        stack.Template.HasResourceProperties("AWS::RDS::DBParameterGroup", new Dictionary<string, object>
        {
            ["Parameters"] = new Dictionary<string, object> { ["rds.force_ssl"] = "1" },
        });

    [Fact]
    public void CredentialsAreAGeneratedSecret() =>
        stack.Template.HasResourceProperties("AWS::SecretsManager::Secret", new Dictionary<string, object>
        {
            ["GenerateSecretString"] = Match.ObjectLike(new Dictionary<string, object>
            {
                ["SecretStringTemplate"] = "{\"username\":\"rapid\"}",
            }),
        });

    [Fact]
    public void FunctionsConnectThroughAProxyThatRequiresTls()
    {
        var (proxyId, proxy) = stack.Resources("AWS::RDS::DBProxy").Single();
        Assert.True(proxy["Properties"]!["RequireTLS"]!.GetValue<bool>());
        foreach (var (id, function) in stack.Resources("AWS::Lambda::Function").Where(f => IsOperationsStep(f.Resource)))
        {
            var host = function["Properties"]!["Environment"]!["Variables"]!["RAPID_DB_HOST"]!;
            Assert.True(host["Fn::GetAtt"]?[0]?.GetValue<string>() == proxyId, $"{id} does not connect through the proxy");
        }
    }

    internal static bool IsOperationsStep(System.Text.Json.Nodes.JsonObject function) =>
        function["Properties"]!["Handler"]?.GetValue<string>().StartsWith("Rapid.Functions::", StringComparison.Ordinal) == true;
}
