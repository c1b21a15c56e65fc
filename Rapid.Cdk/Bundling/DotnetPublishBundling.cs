using System.Diagnostics;
using Amazon.CDK;
using Amazon.JSII.Runtime.Deputy;

namespace Rapid.Cdk.Bundling;

/// <summary>
/// Packages Rapid.Functions for the managed <c>dotnet10</c> Lambda runtime by running
/// <c>dotnet publish</c> on this machine at synth time (CDK "local bundling"), so no Docker is
/// needed. CDK calls this only when the asset's source hash changed.
/// </summary>
public sealed class DotnetPublishBundling(string repositoryRoot, string project) : DeputyBase, ILocalBundling
{
    public bool TryBundle(string outputDir, IBundlingOptions options)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = repositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
                 {
                     "publish", project, "--configuration", "Release", "--runtime", "linux-x64",
                     "--self-contained", "false", "--output", outputDir, "-p:PublishDocumentationFiles=false",
                 })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException("could not start 'dotnet publish' to bundle the Lambda code");
        // Read both streams concurrently so a chatty build cannot block on a full pipe.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"'dotnet publish {project}' failed with exit code {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return true;
    }
}
