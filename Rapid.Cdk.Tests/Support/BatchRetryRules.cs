using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

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

    /// <summary>
    /// What Batch's RegisterJobDefinition refuses (API reference, RetryStrategy and EvaluateOnExit):
    /// attempts outside 1..10, more than five rules, an action other than RETRY or EXIT (any case), an
    /// exit-code pattern other than digits with an optional final <c>*</c>, a reason pattern with
    /// characters other than letters, digits, periods, colons and white space (an optional final
    /// <c>*</c> aside), a pattern longer than 512 characters. Empty when the strategy is valid.
    /// </summary>
    public static IEnumerable<string> Violations(JsonObject retryStrategy)
    {
        var attempts = retryStrategy["Attempts"]?.GetValue<int>();
        if (attempts is not (>= 1 and <= 10)) yield return $"Attempts {attempts?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "missing"}: Batch allows 1 to 10";
        var rules = retryStrategy["EvaluateOnExit"]?.AsArray().Select(r => r!.AsObject()).ToList() ?? [];
        if (rules.Count > 5) yield return $"{rules.Count} EvaluateOnExit rules: Batch allows at most 5";
        foreach (var rule in rules)
        {
            var action = rule["Action"]?.GetValue<string>();
            if (!string.Equals(action, "RETRY", StringComparison.OrdinalIgnoreCase) && !string.Equals(action, "EXIT", StringComparison.OrdinalIgnoreCase))
                yield return $"Action '{action}': neither RETRY nor EXIT";
            if (rule["OnExitCode"] is null && rule["OnReason"] is null && rule["OnStatusReason"] is null)
                yield return $"{rule.ToJsonString()}: a rule without a condition";
            foreach (var (field, allowed) in new[] { ("OnExitCode", ExitCodePattern), ("OnReason", ReasonPattern), ("OnStatusReason", ReasonPattern) })
                if (rule[field]?.GetValue<string>() is { } pattern && (pattern.Length > 512 || !allowed.IsMatch(pattern)))
                    yield return $"{field} '{pattern}': Batch refuses this pattern";
        }
    }

    private static readonly Regex ExitCodePattern = new(@"^[0-9]*\*?$", RegexOptions.CultureInvariant);
    private static readonly Regex ReasonPattern = new(@"^[A-Za-z0-9.: \t]*\*?$", RegexOptions.CultureInvariant);

    private static bool Matches(JsonNode? pattern, string? value)
    {
        if (pattern is null) return true;
        if (value is null) return false;
        var text = pattern.GetValue<string>();
        return text.EndsWith('*') ? value.StartsWith(text[..^1], StringComparison.Ordinal) : value == text;
    }
}
