using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class BatchComputeTests(DefaultStack stack)
{
    [Fact]
    public void QueueTakesSpotFirstAndOnDemandSecond()
    {
        var environments = stack.Resources("AWS::Batch::ComputeEnvironment")
            .ToDictionary(e => e.Id, e => e.Resource["Properties"]!["ComputeResources"]!);
        Assert.Equal(2, environments.Count);
        var spot = environments.Single(e => e.Value["Type"]!.GetValue<string>() == "SPOT");
        var onDemand = environments.Single(e => e.Value["Type"]!.GetValue<string>() == "EC2");
        Assert.Equal(0, spot.Value["MinvCpus"]!.GetValue<int>());
        Assert.Equal(256, spot.Value["MaxvCpus"]!.GetValue<int>());

        var (_, queue) = stack.Resources("AWS::Batch::JobQueue").Single();
        var order = queue["Properties"]!["ComputeEnvironmentOrder"]!.AsArray()
            .OrderBy(o => o!["Order"]!.GetValue<int>())
            .Select(o => o!["ComputeEnvironment"]!["Fn::GetAtt"]![0]!.GetValue<string>())
            .ToList();
        Assert.Equal([spot.Key, onDemand.Key], order);
    }

    [Theory]
    [InlineData("Reference", "4", "16384", 180)]
    [InlineData("Science", "4", "16384", 120)]
    [InlineData("PostProcessing", "1", "4096", 30)]
    public void JobDefinitionsHaveTheirResourcesAndAttemptTimeout(string name, string vcpus, string memoryMiB, int timeoutMinutes)
    {
        var job = JobDefinition(name);
        var requirements = job["ContainerProperties"]!["ResourceRequirements"]!.AsArray()
            .ToDictionary(r => r!["Type"]!.GetValue<string>(), r => r!["Value"]!.GetValue<string>());
        Assert.Equal(vcpus, requirements["VCPU"]);
        Assert.Equal(memoryMiB, requirements["MEMORY"]);
        Assert.Equal(timeoutMinutes * 60, job["Timeout"]!["AttemptDurationSeconds"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("Reference")]
    [InlineData("Science")]
    [InlineData("PostProcessing")]
    public void JobsRetryHostFailuresButNeverAContainerThatExited(string name)
    {
        var retry = JobDefinition(name)["RetryStrategy"]!;
        Assert.Equal(3, retry["Attempts"]!.GetValue<int>());
        var rules = retry["EvaluateOnExit"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Contains(rules, r => r["Action"]!.GetValue<string>() == "RETRY" && r["OnStatusReason"]?.GetValue<string>() == "Host EC2*");
        Assert.Contains(rules, r => r["Action"]!.GetValue<string>() == "RETRY" &&
                                    r["OnStatusReason"]?.GetValue<string>().StartsWith("Timeout waiting for network interface provisioning", StringComparison.Ordinal) == true);
        // Batch applies the first matching rule: the catch-all on exit codes must come last.
        var last = rules[^1];
        Assert.Equal("EXIT", last["Action"]!.GetValue<string>());
        Assert.Equal("*", last["OnExitCode"]!.GetValue<string>());
        Assert.DoesNotContain(rules.SkipLast(1), r => r["OnExitCode"] is not null);
    }

    [Fact]
    public void JobsGetTheBucketNamesButNoDatabaseSettings()
    {
        foreach (var name in new[] { "Reference", "Science", "PostProcessing" })
        {
            var variables = JobDefinition(name)["ContainerProperties"]!["Environment"]!.AsArray()
                .Select(v => v!["Name"]!.GetValue<string>()).ToHashSet();
            Assert.Superset(new HashSet<string> { "RAPID_DATA_BUCKET", "RAPID_PIPELINE_BUCKET", "RAPID_PRODUCTS_BUCKET", "RAPID_LOGS_BUCKET" }, variables);
            Assert.DoesNotContain(variables, v => v.StartsWith("RAPID_DB_", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void HostsHaveAnEncryptedRootVolumeAndRequireImdsV2() =>
        stack.Template.HasResourceProperties("AWS::EC2::LaunchTemplate", new Dictionary<string, object>
        {
            ["LaunchTemplateData"] = Match.ObjectLike(new Dictionary<string, object>
            {
                ["BlockDeviceMappings"] = Match.ArrayWith([Match.ObjectLike(new Dictionary<string, object>
                {
                    ["Ebs"] = Match.ObjectLike(new Dictionary<string, object>
                    {
                        ["Encrypted"] = true, ["VolumeSize"] = 100, ["VolumeType"] = "gp3",
                    }),
                })]),
                ["MetadataOptions"] = Match.ObjectLike(new Dictionary<string, object> { ["HttpTokens"] = "required" }),
            }),
        });

    [Fact]
    public void ImageIsBuiltFromThePipelineDockerfileAtDeploy()
    {
        var images = stack.Assets["dockerImages"]!.AsObject();
        var image = Assert.Single(images).Value!;
        Assert.Equal("pipeline-image/Dockerfile", image["source"]!["dockerFile"]!.GetValue<string>());
        Assert.Equal("linux/amd64", image["source"]!["platform"]!.GetValue<string>());
        foreach (var name in new[] { "Reference", "Science", "PostProcessing" })
            Assert.Contains(image["destinations"]!.AsObject().First().Value!["imageTag"]!.GetValue<string>(),
                JobDefinition(name)["ContainerProperties"]!["Image"]!.ToJsonString());
    }

    private JsonObject JobDefinition(string name) =>
        stack.Resources("AWS::Batch::JobDefinition").Single(j => j.Id.Contains(name + "Job", StringComparison.Ordinal))
            .Resource["Properties"]!.AsObject();
}
