namespace Rapid.Cdk.Configuration;

/// <summary>
/// The solution directory (the one holding Rapid.slnx): the Docker build context of the pipeline
/// image and the source of the Lambda bundle. Found by walking up, so synth works from the root
/// (cdk.json) and tests work from their bin directory.
/// </summary>
public static class RepositoryRoot
{
    public const string MarkerFile = "Rapid.slnx";

    public static string Find(string? start = null)
    {
        foreach (var origin in new[] { start, Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = origin is null ? null : new DirectoryInfo(origin); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, MarkerFile)))
                    return dir.FullName;
        }
        throw new DirectoryNotFoundException($"no {MarkerFile} found above '{Directory.GetCurrentDirectory()}': run synth from the repository");
    }

    /// <summary>Paths never sent to Docker or hashed into assets: build outputs, node modules, local state.</summary>
    public static readonly string[] BuildExcludes =
        [".git", "cdk.out", "node_modules", "**/bin", "**/obj", ".rapid", "**/TestResults", "*.Tests", "tools"];

    /// <summary>
    /// The pipeline image's build context: only what pipeline-image/Dockerfile copies, so a change
    /// to the CDK app or the Lambdas does not rebuild and re-push the image.
    /// </summary>
    public static readonly string[] PipelineImageExcludes =
        [.. BuildExcludes, "Rapid.Cdk", "Rapid.Functions", "Rapid.Cli", "*.md", "cdk.json", "package.json", "package-lock.json"];
}
