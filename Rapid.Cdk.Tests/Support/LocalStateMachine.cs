using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Rapid.Cdk.Tests.Support;

/// <summary>
/// Runs a synthesized definition with tools/local-state-machine/run.mjs (aws-local-stepfunctions on
/// the Node 22 of the npm package node@22): Lambda tasks are the functions' published bundle started
/// as the managed dotnet10 runtime starts it (tools/lambda-runtime), Batch tasks the local executor
/// through <c>rapid batch submit</c>, both with the environment the template gives the function or
/// job definition, on a local S3 (s3rver) and the given PostgreSQL.
/// </summary>
public static class LocalStateMachine
{
    public sealed record Run(string Status, JsonObject? Output, string? Error, string? Cause,
        IReadOnlyList<string> States, IReadOnlyList<JsonObject> Notifications, IReadOnlyList<(string Function, string SecretId)> SecretRequests,
        TimeSpan Elapsed, string Log)
    {
        public bool Entered(string state) => States.Contains(state);
    }

    /// <param name="Upload">A directory object store copied into the local S3 first (the survey's L2 files).</param>
    /// <param name="ConnectionString">The database's owner: the master user's stand-in.</param>
    public sealed record Options(string Upload, string ConnectionString, IReadOnlyDictionary<string, string> Environment, int Parallelism = 2);

    public static Run Execute(SynthesizedStack stack, string definition, JsonObject input, Options options)
    {
        var root = Rapid.Cdk.Configuration.RepositoryRoot.Find();
        var node = Path.Combine(root, "node_modules", ".bin", "node");
        if (!File.Exists(Path.Combine(root, "node_modules", "aws-local-stepfunctions", "package.json")) || !File.Exists(node))
            throw new InvalidOperationException($"npm packages aws-local-stepfunctions and node@22 are not installed under {root}/node_modules: run `npm ci` in {root} first");
        // rapid.dll and the runtime host are built beside this test assembly (the project references both).
        var rapid = Path.Combine(AppContext.BaseDirectory, "rapid.dll");
        var runtimeHost = Path.Combine(AppContext.BaseDirectory, "Rapid.LambdaRuntimeHost.dll");

        var work = Directory.CreateTempSubdirectory("rapid-local-sfn-");
        try
        {
            var asl = Path.Combine(work.FullName, "definition.asl.json");
            File.WriteAllText(asl, definition);

            var start = new ProcessStartInfo(node)
            {
                WorkingDirectory = root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            var args = new List<string>
            {
                Path.Combine(root, "tools", "local-state-machine", "run.mjs"),
                "--template", stack.TemplatePath, "--definition", asl, "--input", input.ToJsonString(),
                "--upload", options.Upload, "--db", options.ConnectionString, "--rapid", rapid, "--runtime-host", runtimeHost,
                "--parallel", options.Parallelism.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--outbox", Path.Combine(work.FullName, "outbox"),
            };
            foreach (var (key, value) in options.Environment) args.AddRange(["--env", $"{key}={value}"]);
            foreach (var a in args) start.ArgumentList.Add(a);

            var clock = Stopwatch.StartNew();
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {node}");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"the local run did not end within 5 minutes:\n{stderr.Result}");
            }
            var log = stderr.Result;
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"the local run failed (exit {process.ExitCode}):\n{log}\n{stdout.Result}");

            var report = JsonNode.Parse(stdout.Result)!.AsObject();
            return new Run(
                report["status"]!.GetValue<string>(),
                report["output"] as JsonObject,
                report["error"]?.GetValue<string>(),
                report["cause"]?.GetValue<string>(),
                report["states"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToList(),
                report["notifications"]!.AsArray().Select(n => n!.AsObject()).ToList(),
                report["secretRequests"]!.AsArray().Select(r => (r!["function"]!.GetValue<string>(), r["secretId"]!.GetValue<string>())).ToList(),
                clock.Elapsed,
                log);
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { }
        }
    }
}
