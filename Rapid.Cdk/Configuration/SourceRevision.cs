using System.Diagnostics;

namespace Rapid.Cdk.Configuration;

/// <summary>
/// The commit the deployed code was built from: <c>rapid:sourceRevision</c> when given, else
/// <c>git rev-parse HEAD</c> of the repository (with <c>-dirty</c> when the work tree has
/// uncommitted changes: the mark local builds give themselves too, Rapid.Core's SoftwareInfo.DirtySuffix), else <c>unknown</c>. The pipeline image gets it as a build argument (its
/// build context has no .git), so <c>Rapid.Pipeline --version</c>, manifests and product headers carry
/// it; the Lambdas get it as RAPID_SOURCE_REVISION.
/// </summary>
public sealed record SourceRevision(string Value)
{
    /// <summary>The Dockerfile's ARG, passed to <c>dotnet publish -p:SourceRevisionId=...</c>.</summary>
    public const string BuildArgument = "RAPID_SOURCE_REVISION";
    public const string EnvironmentVariable = "RAPID_SOURCE_REVISION";
    public const string Unknown = "unknown";

    public static SourceRevision Resolve(string? configured, string repositoryRoot)
    {
        if (configured is { Length: > 0 }) return new SourceRevision(configured);
        var head = Git(repositoryRoot, "rev-parse", "HEAD");
        if (head is not { Length: 40 }) return new SourceRevision(Unknown);
        var changes = Git(repositoryRoot, "status", "--porcelain", "--untracked-files=no");
        return new SourceRevision(changes is { Length: > 0 } ? head + "-dirty" : head);
    }

    private static string? Git(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        try
        {
            using var git = Process.Start(start);
            if (git is null) return null;
            var output = git.StandardOutput.ReadToEndAsync();
            _ = git.StandardError.ReadToEndAsync();
            git.WaitForExit();
            return git.ExitCode == 0 ? output.Result.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no git on this machine
        }
    }
}
