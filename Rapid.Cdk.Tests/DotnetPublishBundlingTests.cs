using Amazon.CDK;
using Rapid.Cdk.Bundling;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Tests;

/// <summary>The local bundler that packages the Lambdas at synth time, run for real (no Docker).</summary>
public sealed class DotnetPublishBundlingTests
{
    private static readonly string Root = RepositoryRoot.Find();
    private static readonly IBundlingOptions Options = new BundlingOptions { Image = DockerImage.FromRegistry("unused") };

    [Fact]
    public void PublishesTheFunctionsAssemblyAndItsDependenciesIntoTheOutputDirectory()
    {
        var output = Directory.CreateTempSubdirectory("rapid-bundle-");
        try
        {
            var bundled = new DotnetPublishBundling(Root, Path.Combine("Rapid.Functions", "Rapid.Functions.csproj"))
                .TryBundle(output.FullName, Options);
            Assert.True(bundled);
            foreach (var file in new[] { "Rapid.Functions.dll", "Rapid.Functions.deps.json", "Rapid.Core.dll", "Npgsql.dll" })
                Assert.True(File.Exists(Path.Combine(output.FullName, file)), $"{file} is not in the bundle");
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    [Fact]
    public void FailedPublishFailsTheSynthWithTheBuildOutput()
    {
        var output = Directory.CreateTempSubdirectory("rapid-bundle-");
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() =>
                new DotnetPublishBundling(Root, "NoSuchProject/NoSuchProject.csproj").TryBundle(output.FullName, Options));
            Assert.Contains("NoSuchProject", error.Message);
            Assert.Contains("failed with exit code", error.Message);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
