using Amazon.CDK;
using Rapid.Cdk.Bundling;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Tests;

/// <summary>
/// The local bundler that packages the Lambdas at synth time, run for real (no Docker). What it
/// produces is checked on the default stack's own bundle (LambdaBundleTests), which it made.
/// </summary>
public sealed class DotnetPublishBundlingTests
{
    private static readonly string Root = RepositoryRoot.Find();
    private static readonly IBundlingOptions Options = new BundlingOptions { Image = DockerImage.FromRegistry("unused") };

    [Fact]
    public void Failed_publish_fails_the_synth_with_the_build_output()
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
