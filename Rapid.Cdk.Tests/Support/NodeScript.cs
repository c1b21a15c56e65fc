using System.Diagnostics;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Tests.Support;

/// <summary>Runs a script of the repository's tools/ with the Node 22 of the npm package node@22 (node_modules/.bin/node).</summary>
public static class NodeScript
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string script, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var root = RepositoryRoot.Find();
        var node = Path.Combine(root, "node_modules", ".bin", "node");
        if (!File.Exists(node))
            throw new InvalidOperationException($"{node} is missing: run `npm ci` in {root} first");
        var start = new ProcessStartInfo(node) { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(root, script));
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {node}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} did not finish within {timeout.TotalMinutes} minutes:\n{stderr.Result}");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
