using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class OpsDatabaseTests(DefaultStack stack)
{
    [Fact]
    public void Instance_is_postgres15_encrypted_backed_up_and_deletion_protected()
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
    public void Instance_lives_in_isolated_subnets()
    {
        var (_, group) = stack.Resources("AWS::RDS::DBSubnetGroup").Single();
        foreach (var subnet in group["Properties"]!["SubnetIds"]!.AsArray())
            Assert.Contains("database", subnet!["Ref"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Server_requires_tls() =>
        stack.Template.HasResourceProperties("AWS::RDS::DBParameterGroup", new Dictionary<string, object>
        {
            ["Parameters"] = new Dictionary<string, object> { ["rds.force_ssl"] = "1" },
        });

    [Theory]
    [InlineData("rapid")]
    [InlineData("rapid_ops")]
    public void Credentials_are_generated_secrets(string user) =>
        stack.Template.HasResourceProperties("AWS::SecretsManager::Secret", new Dictionary<string, object>
        {
            ["GenerateSecretString"] = Match.ObjectLike(new Dictionary<string, object>
            {
                ["SecretStringTemplate"] = $"{{\"username\":\"{user}\"}}",
            }),
        });

    [Fact]
    public void Both_secrets_rotate()
    {
        var rotated = stack.Resources("AWS::SecretsManager::RotationSchedule")
            .Select(r => r.Resource["Properties"]!["SecretId"]!["Ref"]!.GetValue<string>()).ToHashSet();
        Assert.Equal(SecretIds().Order(), rotated.Order());
    }

    /// <summary>
    /// Least privilege: the migration alone connects as the master user; every other function as
    /// the operations role, and may read only that role's secret.
    /// </summary>
    [Fact]
    public void Only_the_migration_gets_the_master_secret()
    {
        var master = stack.LogicalId(stack.Stack.Database.MasterSecret);
        var operations = stack.LogicalId(stack.Stack.Database.OperationsSecret);
        Assert.Equal(SecretIds().Order(), new[] { master, operations }.Order());
        foreach (var (id, function) in stack.Resources("AWS::Lambda::Function").Where(f => IsOperationsStep(f.Resource)))
        {
            var isMigrate = function["Properties"]!["Handler"]!.GetValue<string>().Contains("MigrateHandler", StringComparison.Ordinal);
            var variables = function["Properties"]!["Environment"]!["Variables"]!;
            Assert.Equal(isMigrate ? master : operations, variables["RAPID_DB_SECRET_ID"]!["Ref"]!.GetValue<string>());
            Assert.Equal(isMigrate ? operations : null, variables["RAPID_DB_OPS_SECRET_ID"]?["Ref"]?.GetValue<string>());
            var readable = SecretsReadableBy(function["Properties"]!["Role"]!["Fn::GetAtt"]![0]!.GetValue<string>());
            Assert.Equal(isMigrate ? [master, operations] : [operations], readable.Order());
        }
    }

    /// <summary>Defect 4 of issue 9: one rule lets the proxy into the database (AddProxy makes it); a second would share its ownership.</summary>
    [Fact]
    public void One_ingress_rule_lets_the_proxy_into_the_database()
    {
        var proxyGroup = stack.Resources("AWS::EC2::SecurityGroup").Single(g => g.Id.StartsWith("OpsDatabaseProxySecurityGroup", StringComparison.Ordinal)).Id;
        var rules = stack.Resources("AWS::EC2::SecurityGroupIngress")
            .Where(r => r.Resource["Properties"]!["SourceSecurityGroupId"]?["Fn::GetAtt"]?[0]?.GetValue<string>() == proxyGroup)
            .ToList();
        var rule = Assert.Single(rules);
        Assert.StartsWith("OpsDatabaseInstanceSecurityGroup", rule.Resource["Properties"]!["GroupId"]!["Fn::GetAtt"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_proxy_holds_both_secrets()
    {
        var (_, proxy) = stack.Resources("AWS::RDS::DBProxy").Single();
        var secrets = proxy["Properties"]!["Auth"]!.AsArray().Select(a => a!["SecretArn"]!["Ref"]!.GetValue<string>()).Order();
        Assert.Equal(SecretIds().Order(), secrets);
    }

    private IEnumerable<string> SecretIds() =>
        stack.Resources("AWS::SecretsManager::SecretTargetAttachment").Select(a => a.Id)
            .Concat(stack.Resources("AWS::SecretsManager::Secret").Where(s => !stack.Resources("AWS::SecretsManager::SecretTargetAttachment")
                .Any(a => a.Resource["Properties"]!["SecretId"]!["Ref"]!.GetValue<string>() == s.Id)).Select(s => s.Id));

    private HashSet<string> SecretsReadableBy(string roleId) =>
        stack.Resources("AWS::IAM::Policy")
            .Where(p => p.Resource["Properties"]!["Roles"]!.AsArray().Any(r => r!["Ref"]?.GetValue<string>() == roleId))
            .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray())
            .Where(st => st!["Action"]!.ToJsonString().Contains("secretsmanager:GetSecretValue", StringComparison.Ordinal))
            .SelectMany(st => st!["Resource"] is JsonArray many ? many.Select(r => r!["Ref"]!.GetValue<string>()) : [st["Resource"]!["Ref"]!.GetValue<string>()])
            .ToHashSet();

    [Fact]
    public void Functions_connect_through_a_proxy_that_requires_tls()
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
