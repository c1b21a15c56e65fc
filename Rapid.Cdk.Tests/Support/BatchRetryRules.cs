using System.Text.Json.Nodes;

namespace Rapid.Cdk.Tests.Support;

/// <summary>
/// AWS Batch's evaluation of a job definition's <c>RetryStrategy.EvaluateOnExit</c>, as the Batch API
/// reference documents it: rules are evaluated in order and the first whose given conditions
/// (OnStatusReason, OnReason, OnExitCode) all match decides; a pattern matches exactly, or by its
/// start when it ends with <c>*</c>; a job that matches no rule is retried. A condition on a field
/// the job does not have (a job that never exited has no exit code) does not match.
/// </summary>
public static class BatchRetryRules
{
    public static string Decide(IEnumerable<JsonObject> rules, string? reason, string? exitCode, string? statusReason)
    {
        foreach (var rule in rules)
            if (Matches(rule["OnStatusReason"], statusReason) && Matches(rule["OnReason"], reason) && Matches(rule["OnExitCode"], exitCode))
                return rule["Action"]!.GetValue<string>().ToUpperInvariant();
        return "RETRY";
    }

    private static bool Matches(JsonNode? pattern, string? value)
    {
        if (pattern is null) return true;
        if (value is null) return false;
        var text = pattern.GetValue<string>();
        return text.EndsWith('*') ? value.StartsWith(text[..^1], StringComparison.Ordinal) : value == text;
    }
}
