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
        TimeSpan Elapsed, string Log, string Execution)
    {
        public bool Entered(string state) => States.Contains(state);
    }

    /// <param name="Upload">A directory object store copied into the local S3 first (the survey's L2 files).</param>
    /// <param name="ConnectionString">The database's owner: the master user's stand-in.</param>
    /// <param name="KillFirstChild">A fault: the first child of the execution's first Batch job is killed (SIGKILL) as it starts.</param>
    /// <param name="StateMachine">The template's state machine the definition is (the logical id's start): its name is in the execution's ARN.</param>
    /// <param name="ExecutionName">The execution's name ($$.Execution.Name; its ARN is $$.Execution.Id); default a random one.</param>
    /// <param name="S3Directory">Where the local S3 keeps its objects, kept after the run (s3rver's layout: bucket/key._S3rver_object); default a temporary one.</param>
    public sealed record Options(string Upload, string ConnectionString, IReadOnlyDictionary<string, string> Environment, int Parallelism = 2,
        bool KillFirstChild = false, string? ExecutionName = null, string StateMachine = "NightlyWorkflow", string? S3Directory = null);

    public static Run Execute(SynthesizedStack stack, string definition, JsonObject input, Options options)
    {
        // rapid.dll and the runtime host are built beside this test assembly (the project references both).
        var rapid = Path.Combine(AppContext.BaseDirectory, "rapid.dll");
        var runtimeHost = Path.Combine(AppContext.BaseDirectory, "Rapid.LambdaRuntimeHost.dll");

        var work = Directory.CreateTempSubdirectory("rapid-local-sfn-");
        try
        {
            var asl = Path.Combine(work.FullName, "definition.asl.json");
            File.WriteAllText(asl, definition);
            var args = new List<string>
            {
                "--template", stack.TemplatePath, "--definition", asl, "--input", input.ToJsonString(),
                "--upload", options.Upload, "--db", options.ConnectionString, "--rapid", rapid, "--runtime-host", runtimeHost,
                "--parallel", options.Parallelism.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--outbox", Path.Combine(work.FullName, "outbox"),
            };
            foreach (var (key, value) in options.Environment) args.AddRange(["--env", $"{key}={value}"]);
            if (options.KillFirstChild) args.Add("--kill-first-child");
            if (options.ExecutionName is { } name) args.AddRange(["--execution-name", name]);
            if (options.S3Directory is { } s3) args.AddRange(["--s3-directory", s3]);
            args.AddRange(["--state-machine", options.StateMachine]);

            // A guard against a hung run (a tiny night takes about a minute on a loaded 2-core machine), not a timing assertion.
            var clock = Stopwatch.StartNew();
            var run = NodeScript.Run(Path.Combine("tools", "local-state-machine", "run.mjs"), args, TimeSpan.FromMinutes(10));
            var log = run.Stderr;
            if (run.ExitCode != 0)
                throw new InvalidOperationException($"the local run failed (exit {run.ExitCode}):\n{log}\n{run.Stdout}");

            var report = JsonNode.Parse(run.Stdout)!.AsObject();
            return new Run(
                report["status"]!.GetValue<string>(),
                report["output"] as JsonObject,
                report["error"]?.GetValue<string>(),
                report["cause"]?.GetValue<string>(),
                report["states"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToList(),
                report["notifications"]!.AsArray().Select(n => n!.AsObject()).ToList(),
                report["secretRequests"]!.AsArray().Select(r => (r!["function"]!.GetValue<string>(), r["secretId"]!.GetValue<string>())).ToList(),
                clock.Elapsed,
                log,
                report["execution"]!.GetValue<string>());
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { }
        }
    }
}
