using System.Text.Json.Nodes;

namespace Rapid.Cdk.Tests.Support;

/// <summary>
/// The state machine's ASL from a synthesized template: the DefinitionString's Fn::Join parts
/// with every CloudFormation reference replaced by an ARN of the right shape for the test
/// account and region, so the result is plain ASL that asl-validator (and later a local runner)
/// can read.
/// </summary>
public static class StateMachineDefinition
{
    /// <param name="workflow">The construct of the state machine: NightlyWorkflow or PromptWorkflow.</param>
    public static string Extract(SynthesizedStack stack, string workflow = "NightlyWorkflow")
    {
        var (_, machine) = stack.Resources("AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith(workflow, StringComparison.Ordinal));
        var definition = machine["Properties"]!["DefinitionString"]!;
        if (definition is JsonValue plain) return plain.GetValue<string>();
        var join = definition["Fn::Join"]!.AsArray();
        var parts = join[1]!.AsArray();
        return string.Concat(parts.Select(p => Resolve(stack, p!)));
    }

    public static JsonObject Parse(SynthesizedStack stack, string workflow = "NightlyWorkflow") => JsonNode.Parse(Extract(stack, workflow))!.AsObject();

    private static string Resolve(SynthesizedStack stack, JsonNode part)
    {
        if (part is JsonValue text) return text.GetValue<string>();
        var obj = part.AsObject();
        if (obj["Ref"] is { } reference)
        {
            var name = reference.GetValue<string>();
            return name switch
            {
                "AWS::Partition" => "aws",
                "AWS::Region" => SynthesizedStack.Region,
                "AWS::AccountId" => SynthesizedStack.Account,
                "AWS::URLSuffix" => "amazonaws.com",
                _ => ArnOf(stack, name),
            };
        }
        if (obj["Fn::GetAtt"] is JsonArray getAtt && getAtt[1]!.GetValue<string>().EndsWith("Arn", StringComparison.Ordinal))
            return ArnOf(stack, getAtt[0]!.GetValue<string>());
        throw new InvalidOperationException($"state machine definition has an unexpected CloudFormation expression: {part.ToJsonString()}");
    }

    private static string ArnOf(SynthesizedStack stack, string logicalId)
    {
        var type = stack.Json["Resources"]![logicalId]?["Type"]?.GetValue<string>()
                   ?? throw new InvalidOperationException($"definition refers to '{logicalId}', which is not in the template");
        var prefix = $"arn:aws:{{0}}:{SynthesizedStack.Region}:{SynthesizedStack.Account}:";
        return type switch
        {
            "AWS::Lambda::Function" => string.Format(prefix, "lambda") + $"function:{logicalId}",
            "AWS::Batch::JobQueue" => string.Format(prefix, "batch") + $"job-queue/{logicalId}",
            "AWS::Batch::JobDefinition" => string.Format(prefix, "batch") + $"job-definition/{logicalId}:1",
            "AWS::SNS::Topic" => string.Format(prefix, "sns") + logicalId,
            _ => throw new InvalidOperationException($"definition refers to '{logicalId}' of type {type}, which has no ARN rule here"),
        };
    }
}
