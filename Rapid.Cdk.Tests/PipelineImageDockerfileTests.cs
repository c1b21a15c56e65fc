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
    public void Every_copied_path_exists_and_is_in_the_build_context()
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
    public void Image_publishes_the_pipeline_and_installs_fftw_and_fitsverify()
    {
        var text = string.Join('\n', Lines);
        Assert.Contains("dotnet publish Rapid.Pipeline/Rapid.Pipeline.csproj", text);
        Assert.Contains("libfftw3-single3", text);
        Assert.Contains("fitsverify", text);
        Assert.Contains("ENTRYPOINT [\"/app/Rapid.Pipeline\"]", text);
    }

    private static readonly Support.DockerfileInstructions Instructions = new(Path.Combine(Root, "pipeline-image", "Dockerfile"));

    /// <summary>
    /// Defect 11 of issue 9: the SDK stage runs on the machine's own platform (no emulation on an arm64
    /// workstation) and publishes for linux-x64 explicitly; the runtime stage is the image's platform.
    /// </summary>
    [Fact]
    public void The_build_stage_runs_on_the_build_platform_and_publishes_for_linux_x64()
    {
        var froms = Instructions.FromInstructions().ToList();
        Assert.Equal(2, froms.Count);
        Assert.StartsWith("--platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:", froms[0]);
        Assert.DoesNotContain("--platform", froms[1]);
        Assert.Contains("--runtime linux-x64", string.Join(' ', Instructions.PublishArguments(new Dictionary<string, string>())));
    }

    /// <summary>Microsoft's .NET 10 images are Ubuntu 24.04: the tags name it and the .NET version, never a floating "latest".</summary>
    [Fact]
    public void Base_images_are_pinned_to_dotnet10_on_ubuntu_noble()
    {
        foreach (var from in Instructions.FromInstructions())
        {
            var image = from.Split(' ', StringSplitOptions.RemoveEmptyEntries).First(w => !w.StartsWith("--", StringComparison.Ordinal));
            Assert.Matches(@"^mcr\.microsoft\.com/dotnet/(sdk|runtime):10\.0[0-9.]*-noble(@sha256:[0-9a-f]{64})?$", image);
        }
    }

    [Fact]
    public void The_publish_records_the_commit_of_the_build_argument()
    {
        var arguments = Instructions.PublishArguments(new Dictionary<string, string> { [Rapid.Cdk.Configuration.SourceRevision.BuildArgument] = "0123abc" });
        Assert.Contains("-p:SourceRevisionId=0123abc", arguments);
        // Without the argument the ARG's default says that the commit is unknown.
        Assert.Contains("-p:SourceRevisionId=unknown", Instructions.PublishArguments(new Dictionary<string, string>()));
    }
}
