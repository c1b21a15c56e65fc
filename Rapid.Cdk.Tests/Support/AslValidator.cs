using System.Diagnostics;

namespace Rapid.Cdk.Tests.Support;

/// <summary>
/// Runs the npm package asl-validator (pinned in the root package.json) on a definition. It must
/// be installed by <c>npm ci</c> at the repository root; <c>npx --no-install</c> never downloads.
/// </summary>
public static class AslValidator
{
    public sealed record Result(int ExitCode, string Output);

    public static Result Validate(string definitionJson)
    {
        var root = Rapid.Cdk.Configuration.RepositoryRoot.Find();
        var installed = Path.Combine(root, "node_modules", "asl-validator", "package.json");
        if (!File.Exists(installed))
            throw new InvalidOperationException(
                $"npm package asl-validator is not installed under {root}/node_modules: run `npm ci` in {root} first");

        var file = Path.Combine(Path.GetTempPath(), $"rapid-asl-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, definitionJson);
        try
        {
            var start = new ProcessStartInfo("npx")
            {
                WorkingDirectory = root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var arg in new[] { "--no-install", "asl-validator", "--json-path", file }) start.ArgumentList.Add(arg);
            using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start npx (is Node installed?)");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            return new Result(process.ExitCode, stdout.Result + stderr.Result);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
