using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Tests;

/// <summary>
/// No Docker engine runs here, so the image is never built in tests; these checks keep the
/// Dockerfile consistent with the build context the DockerImageAsset sends.
/// </summary>
public sealed class PipelineImageDockerfileTests
{
    private static readonly string Root = RepositoryRoot.Find();
    private static readonly string[] Lines = File.ReadAllLines(Path.Combine(Root, "pipeline-image", "Dockerfile"));

    /// <summary>Sources of COPY instructions that read from the build context (not from another stage).</summary>
    private static IEnumerable<string> CopiedPaths() =>
        Lines.Select(l => l.Trim())
            .Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from=", StringComparison.Ordinal))
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1]);

    [Fact]
    public void EveryCopiedPathExistsAndIsInTheBuildContext()
    {
        var copied = CopiedPaths().ToList();
        Assert.NotEmpty(copied);
        foreach (var path in copied)
        {
            var trimmed = path.TrimEnd('/');
            Assert.True(File.Exists(Path.Combine(Root, trimmed)) || Directory.Exists(Path.Combine(Root, trimmed)), $"COPY {path}: not in the repository");
            Assert.DoesNotContain(trimmed, RepositoryRoot.PipelineImageExcludes);
        }
    }

    [Fact]
    public void ImagePublishesThePipelineAndInstallsFftwAndFitsverify()
    {
        var text = string.Join('\n', Lines);
        Assert.Contains("dotnet publish Rapid.Pipeline/Rapid.Pipeline.csproj", text);
        Assert.Contains("libfftw3-single3", text);
        Assert.Contains("fitsverify", text);
        Assert.Contains("ENTRYPOINT [\"/app/Rapid.Pipeline\"]", text);
    }
}
