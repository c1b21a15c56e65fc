using System.Text.Json.Nodes;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class IamPolicyTests(DefaultStack stack)
{
    /// <summary>Actions AWS does not allow to be scoped to a resource (their "Resource" must be "*").</summary>
    private static readonly HashSet<string> UnscopableActions =
    [
        "ecr:GetAuthorizationToken",
        "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
        "logs:DeleteResourcePolicy",
        // Lambda's network interfaces in the VPC (AWSLambdaVPCAccessExecutionRole's actions) and Batch's DescribeJobs.
        "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses", "batch:DescribeJobs",
    ];

    private IEnumerable<(string Policy, JsonObject Statement)> Statements()
    {
        foreach (var (id, policy) in stack.Resources("AWS::IAM::Policy"))
            foreach (var statement in policy["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray())
                yield return (id, statement!.AsObject());
        foreach (var (id, role) in stack.Resources("AWS::IAM::Role"))
            foreach (var inline in role["Properties"]!["Policies"]?.AsArray() ?? [])
                foreach (var statement in inline!["PolicyDocument"]!["Statement"]!.AsArray())
                    yield return (id, statement!.AsObject());
    }

    private static IEnumerable<string> Values(JsonNode? node) => node switch
    {
        null => [],
        JsonArray array => array.Select(a => a is JsonValue v ? v.GetValue<string>() : a!.ToJsonString()),
        JsonValue value => [value.GetValue<string>()],
        _ => [node.ToJsonString()],
    };

    [Fact]
    public void No_statement_allows_a_wildcard_action()
    {
        var wildcards = Statements()
            .SelectMany(s => Values(s.Statement["Action"]).Where(a => a.Contains('*')).Select(a => $"{s.Policy}: {a}"))
            .ToList();
        Assert.True(wildcards.Count == 0, "wildcard actions:\n" + string.Join("\n", wildcards));
    }

    [Fact]
    public void All_resources_only_for_actions_that_cannot_be_scoped()
    {
        var unscoped = Statements()
            .Where(s => Values(s.Statement["Resource"]).Contains("*"))
            .SelectMany(s => Values(s.Statement["Action"]).Where(a => !UnscopableActions.Contains(a)).Select(a => $"{s.Policy}: {a}"))
            .ToList();
        Assert.True(unscoped.Count == 0, "actions granted on every resource:\n" + string.Join("\n", unscoped));
    }

    [Fact]
    public void Pipeline_jobs_cannot_reach_the_database_secret()
    {
        var jobPolicies = Statements().Where(s => s.Policy.StartsWith("BatchJobRole", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(jobPolicies);
        Assert.DoesNotContain(jobPolicies, s => Values(s.Statement["Action"]).Any(a => a.StartsWith("secretsmanager:", StringComparison.Ordinal)));
        Assert.DoesNotContain(jobPolicies, s => Values(s.Statement["Action"]).Contains("s3:PutObject") &&
                                                 s.Statement["Resource"]!.ToJsonString().Contains("StorageData", StringComparison.Ordinal));
    }

    /// <summary>
    /// Only registration deletes objects (Register, RegisterStream, and CloseExecution, which registers an ended execution's
    /// open jobs), and only products (the unstamped originals a stamped copy supersedes; the products bucket is versioned, so
    /// a delete leaves a marker); no role may delete L2 data, job configs or logs.
    /// </summary>
    [Fact]
    public void Only_registration_deletes_and_only_products()
    {
        var deleters = Statements().Where(s => Values(s.Statement["Action"]).Any(a => a.StartsWith("s3:Delete", StringComparison.Ordinal))).ToList();
        Assert.Equal(["FunctionsCloseExecutionRole", "FunctionsRegisterRole", "FunctionsRegisterStreamRole"],
            deleters.Select(s => s.Policy[..s.Policy.IndexOf("Role", StringComparison.Ordinal)] + "Role").Distinct().Order());
        Assert.All(deleters, s =>
        {
            Assert.Equal(["s3:DeleteObject"], Values(s.Statement["Action"]).Where(a => a.StartsWith("s3:Delete", StringComparison.Ordinal)));
            Assert.Contains("StorageProducts", s.Statement["Resource"]!.ToJsonString(), StringComparison.Ordinal);
        });
    }
}
