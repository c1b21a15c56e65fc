using Amazon.CDK;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Tests;

public sealed class RapidSettingsTests
{
    private static RapidSettings Read(Dictionary<string, object> context) =>
        RapidSettings.FromContext(new App(new AppProps { Context = context }).Node);

    [Fact]
    public void Empty_context_gives_the_documented_defaults()
    {
        var settings = Read([]);
        Assert.Equal("America/Los_Angeles", settings.TimeZone);
        Assert.False(settings.Network.IsImported);
        Assert.False(settings.Database.IsImported);
        Assert.False(settings.Storage.UseKms);
        Assert.Equal(256, settings.Batch.MaxVcpus);
        Assert.Equal(settings.Batch.MaxVcpus, settings.Batch.OnDemandMaxVcpus);
        Assert.True(settings.Batch.UseSpot);
        Assert.Equal(new JobResources(4, 5120, 120), settings.Batch.Science);
        Assert.Equal(new JobResources(4, 7168, 180), settings.Batch.Reference);
        Assert.Equal(new JobResources(1, 2048, 30), settings.Batch.PostProcessing);
        Assert.Equal(10_000, settings.Batch.MaxArraySize);
        Assert.Null(settings.SourceRevision);
        Assert.Null(settings.Functions.SettingsProfile);
        Assert.Equal("cron(30 8 * * ? *)", settings.Schedule.Cron);
        Assert.Equal("America/Los_Angeles", settings.Schedule.TimeZone);
        Assert.Null(settings.Monitoring.AlarmEmail);
    }

    [Fact]
    public void Command_line_strings_are_parsed_like_json_values()
    {
        var settings = Read(new()
        {
            ["rapid:useSpot"] = "false", ["rapid:maxVcpus"] = "64", ["rapid:bucketEncryption"] = "kms",
            ["rapid:vpcAvailabilityZones"] = "a, b", ["rapid:timeZone"] = "UTC",
        });
        Assert.False(settings.Batch.UseSpot);
        Assert.Equal(64, settings.Batch.MaxVcpus);
        Assert.True(settings.Storage.UseKms);
        Assert.Equal(["a", "b"], settings.Network.AvailabilityZones);
        Assert.Equal("UTC", settings.Schedule.TimeZone);
    }

    [Fact]
    public void Empty_strings_mean_not_set()
    {
        var settings = Read(new() { ["rapid:dbHost"] = "", ["rapid:vpcId"] = " ", ["rapid:alarmEmail"] = "" });
        Assert.False(settings.Database.IsImported);
        Assert.False(settings.Network.IsImported);
        Assert.Null(settings.Monitoring.AlarmEmail);
    }

    [Theory]
    [InlineData("rapid:maxVcpus", "lots")]
    [InlineData("rapid:useSpot", "maybe")]
    [InlineData("rapid:bucketEncryption", "rot13")]
    [InlineData("rapid:jobAttempts", "0")]
    [InlineData("rapid:settingsProfile", "../other-bucket/x")]
    public void Bad_value_fails_naming_the_key(string key, string value)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Read(new() { [key] = value }));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void Every_key_in_cdk_json_is_one_the_app_reads()
    {
        var cdkJson = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "cdk.json")))!;
        var keys = cdkJson["context"]!.AsObject().Select(k => k.Key).Where(k => k.StartsWith("rapid:", StringComparison.Ordinal)).ToList();
        var source = string.Concat(Directory.EnumerateFiles(Path.Combine(RepositoryRoot.Find(), "Rapid.Cdk"), "*.cs", SearchOption.AllDirectories)
            .Select(File.ReadAllText));
        Assert.All(keys, key => Assert.Contains($"\"{key}\"", source));
    }

    /// <summary>cdk.json names every setting with its default, so what a deploy uses is written down in one place.</summary>
    [Fact]
    public void Cdk_json_states_the_defaults()
    {
        var context = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "cdk.json")))!["context"]!;
        var defaults = Read([]);
        Assert.Equal(defaults.Batch.Science.MemoryMiB, context["rapid:scienceMemoryMiB"]!.GetValue<int>());
        Assert.Equal(defaults.Batch.Reference.MemoryMiB, context["rapid:referenceMemoryMiB"]!.GetValue<int>());
        Assert.Equal(defaults.Batch.PostProcessing.MemoryMiB, context["rapid:postProcMemoryMiB"]!.GetValue<int>());
        Assert.Equal(defaults.Batch.MaxArraySize, context["rapid:maxArraySize"]!.GetValue<int>());
        Assert.True(context["@aws-cdk/aws-rds:databaseProxyUniqueResourceName"]!.GetValue<bool>());
    }

    /// <summary>
    /// Defect 3 of issue 9, the flags half: cdk.json carries every feature flag the CDK recommends for a new app, with
    /// its recommended value, as aws-cdk-lib (npm, pinned in package-lock.json) lists them in recommended-feature-flags.json.
    /// </summary>
    [Fact]
    public void Cdk_json_carries_the_feature_flags_the_cdk_recommends_for_a_new_app()
    {
        var root = RepositoryRoot.Find();
        var recommended = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(root, "node_modules", "aws-cdk-lib", "recommended-feature-flags.json")))!.AsObject();
        var context = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(root, "cdk.json")))!["context"]!.AsObject();
        Assert.NotEmpty(recommended);
        var wrong = recommended.Where(flag => !System.Text.Json.Nodes.JsonNode.DeepEquals(flag.Value, context[flag.Key]))
            .Select(flag => $"{flag.Key}: recommended {flag.Value?.ToJsonString()}, cdk.json {context[flag.Key]?.ToJsonString() ?? "absent"}").ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }
}
