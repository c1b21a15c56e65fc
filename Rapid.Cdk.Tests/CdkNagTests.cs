using System.Text.Json.Nodes;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

/// <summary>
/// cdk-nag's AwsSolutions pack (npm, pinned) over the synthesized default template through
/// tools/cdk-nag/check.mjs: every finding must be acknowledged, with its reason, in
/// tools/cdk-nag/acknowledged.json, and every acknowledgement must still match a finding.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class CdkNagTests(DefaultStack stack)
{
    [Fact]
    public void Every_aws_solutions_finding_is_acknowledged_with_its_reason()
    {
        var (exit, output) = Check(stack.TemplatePath);
        var report = JsonNode.Parse(output)!;
        var open = report["findings"]!.AsArray().Where(f => f!["acknowledged"] is null)
            .Select(f => $"{f!["rule"]} on {f["path"]}: {f["description"]}").ToList();
        var stale = report["stale"]!.AsArray().Select(s => $"{s!["rule"]} on {s["resource"]}").ToList();
        Assert.True(open.Count == 0, "findings not in tools/cdk-nag/acknowledged.json:\n" + string.Join("\n", open));
        Assert.True(stale.Count == 0, "acknowledgements that match no finding any more:\n" + string.Join("\n", stale));
        Assert.Equal(0, exit);
    }

    /// <summary>The rules fixed rather than acknowledged stay fixed (bucket access logs, VPC flow logs, secret rotation, AWS-managed policies of our functions, the state machine's log level).</summary>
    [Theory]
    [InlineData("AwsSolutions-S1")]
    [InlineData("AwsSolutions-VPC7")]
    [InlineData("AwsSolutions-SMG4")]
    [InlineData("AwsSolutions-SF1")]
    public void Fixed_rules_find_nothing(string rule)
    {
        var (_, output) = Check(stack.TemplatePath);
        var findings = JsonNode.Parse(output)!["findings"]!.AsArray().Select(f => f!["rule"]!.GetValue<string>());
        Assert.DoesNotContain(findings, f => f == rule || f.StartsWith(rule + "[", StringComparison.Ordinal));
    }

    [Fact]
    public void No_function_of_ours_uses_an_aws_managed_policy()
    {
        var (_, output) = Check(stack.TemplatePath);
        var managed = JsonNode.Parse(output)!["findings"]!.AsArray()
            .Where(f => f!["rule"]!.GetValue<string>().StartsWith("AwsSolutions-IAM4", StringComparison.Ordinal) &&
                        f["path"]!.GetValue<string>().StartsWith("Functions/", StringComparison.Ordinal))
            .Select(f => f!["path"]!.GetValue<string>()).ToList();
        Assert.Empty(managed);
    }

    private static readonly Dictionary<string, (int, string)> Reports = [];

    /// <summary>Runs the check once per template (it takes a few seconds: aws-cdk-lib loads the template).</summary>
    private static (int Exit, string Output) Check(string template)
    {
        lock (Reports)
        {
            if (Reports.TryGetValue(template, out var cached)) return cached;
            var run = NodeScript.Run(Path.Combine("tools", "cdk-nag", "check.mjs"), ["--template", template, "--json"], TimeSpan.FromMinutes(3));
            if (run.ExitCode is not (0 or 1))
                throw new InvalidOperationException($"tools/cdk-nag/check.mjs failed (exit {run.ExitCode}): {run.Stderr}");
            return Reports[template] = (run.ExitCode, run.Stdout);
        }
    }
}
