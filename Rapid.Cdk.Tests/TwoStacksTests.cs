using System.Text.Json.Nodes;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

/// <summary>
/// Two deployments in one account and region (defect 3 of issue 9): CloudFormation refuses a
/// resource whose physical name another stack already holds, so no name may be fixed.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class TwoStacksTests(DefaultStack first, SecondStack second)
{
    /// <summary>Properties that give a resource a name unique in the account (per type), as CloudFormation documents them.</summary>
    private static readonly string[] NameProperties =
    [
        "StateMachineName", "DBProxyName", "DashboardName", "LogGroupName", "BucketName", "FunctionName", "RoleName",
        "QueueName", "TopicName", "Name", "DBInstanceIdentifier", "ComputeEnvironmentName", "JobQueueName",
        "JobDefinitionName", "DBSubnetGroupName", "DBParameterGroupName", "LaunchTemplateName", "ManagedPolicyName",
        "InstanceProfileName", "GroupName", "AlarmName", "ScheduleGroupName",
    ];

    [Fact]
    public void The_two_stacks_share_no_physical_name()
    {
        var firstNames = PhysicalNames(first);
        var secondNames = PhysicalNames(second);

        Assert.NotEmpty(firstNames);
        var shared = firstNames.Keys.Intersect(secondNames.Keys).Select(n => $"{n} ({firstNames[n]})").ToList();
        Assert.True(shared.Count == 0, "both stacks name:\n" + string.Join("\n", shared));
    }

    [Fact]
    public void The_named_resources_carry_their_stacks_name()
    {
        Assert.Equal($"{SecondStack.Name}-nightly", Property(second, "AWS::StepFunctions::StateMachine", "StateMachineName"));
        Assert.Equal($"{SecondStack.Name}-night", Property(second, "AWS::CloudWatch::Dashboard", "DashboardName"));
        Assert.Equal("Rapid-nightly", Property(first, "AWS::StepFunctions::StateMachine", "StateMachineName"));
        Assert.Equal($"{SecondStack.Name}-prompt", Property(second, "AWS::StepFunctions::StateMachine", "StateMachineName", "PromptWorkflow"));
        Assert.Equal("Rapid-prompt", Property(first, "AWS::StepFunctions::StateMachine", "StateMachineName", "PromptWorkflow"));
    }

    [Fact]
    public void The_proxy_name_is_unique_per_stack_as_the_feature_flag_recommended_for_new_apps_makes_it()
    {
        var firstProxy = Property(first, "AWS::RDS::DBProxy", "DBProxyName");
        var secondProxy = Property(second, "AWS::RDS::DBProxy", "DBProxyName");
        Assert.NotEqual(firstProxy, secondProxy);
        Assert.Contains(SecondStack.Name, secondProxy, StringComparison.OrdinalIgnoreCase);
    }

    /// <param name="idPrefix">Where a type has several resources: the one whose logical id starts with it (default: the nightly workflow's).</param>
    private static string Property(SynthesizedStack stack, string type, string name, string idPrefix = "NightlyWorkflow") =>
        Resolve(stack.Resources(type).Where(r => stack.Resources(type).Count() == 1 || r.Id.StartsWith(idPrefix, StringComparison.Ordinal))
                .Single().Resource["Properties"]![name], stack.Stack.StackName)
        ?? throw new Xunit.Sdk.XunitException($"{type}.{name} is not a fixed name");

    /// <summary>Every fixed physical name of the template (name, "type.property").</summary>
    private static Dictionary<string, string> PhysicalNames(SynthesizedStack stack)
    {
        var names = new Dictionary<string, string>();
        foreach (var (id, resource) in stack.Json["Resources"]!.AsObject())
        {
            var type = resource!["Type"]!.GetValue<string>();
            if (resource["Properties"] is not JsonObject properties) continue;
            foreach (var property in NameProperties)
                if (Resolve(properties[property], stack.Stack.StackName) is { } name)
                    names[$"{type}:{name}"] = $"{id}.{property}";
        }
        return names;
    }

    /// <summary>A name fixed at synth: a string, or a join of strings and the stack's name; null for one CloudFormation generates.</summary>
    private static string? Resolve(JsonNode? node, string stackName) => node switch
    {
        JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String => value.GetValue<string>(),
        JsonObject join when join["Fn::Join"] is JsonArray parts =>
            parts[1]!.AsArray().Select(p => p is JsonObject { } r && r["Ref"]?.GetValue<string>() == "AWS::StackName" ? stackName : Resolve(p, stackName))
                .ToList() is var resolved && resolved.All(r => r is not null) ? string.Join(parts[0]!.GetValue<string>(), resolved) : null,
        _ => null,
    };
}
