using System.Text.Json.Nodes;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

/// <summary>
/// Every function of the synthesized template, started from the bundle <c>cdk deploy</c> uploads
/// (the asset the template's Code names) the way the managed dotnet10 runtime starts it: the
/// bootstrap's file checks, <c>dotnet exec --depsfile --runtimeconfig</c> with the handler string,
/// exactly the template's environment and Lambda's own variables, a loopback Runtime API
/// (tools/lambda-runtime). What the handlers then do is tested elsewhere (Rapid.Functions.Tests and
/// the local run of the night); these tests are about reaching them.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class LambdaBundleTests(DefaultStack stack)
{
    /// <summary>No server here: the handlers fail on their input before they would need one.</summary>
    private const string NoDatabase = "Host=/nonexistent;Database=none;Username=none";

    private IEnumerable<string> Functions() =>
        stack.Resources("AWS::Lambda::Function").Where(f => OpsDatabaseTests.IsOperationsStep(f.Resource)).Select(f => f.Id);

    [Fact]
    public void The_bundle_holds_what_the_runtimes_bootstrap_looks_for()
    {
        var bundle = Bundle();
        foreach (var file in new[] { "Rapid.Functions.dll", "Rapid.Functions.deps.json", "Rapid.Functions.runtimeconfig.json", "Rapid.Core.dll", "Npgsql.dll" })
            Assert.True(File.Exists(Path.Combine(bundle, file)), $"{file} is not in the bundle {bundle}");
        var runtimeConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(bundle, "Rapid.Functions.runtimeconfig.json")))!;
        Assert.Equal("Microsoft.NETCore.App", runtimeConfig["runtimeOptions"]!["framework"]!["name"]!.GetValue<string>());
        // The bootstrap falls back to the only *.runtimeconfig.json / *.deps.json when the handler's are missing:
        // a referenced executable's (the science job's) must not be there to fall back to.
        Assert.Equal(["Rapid.Functions.runtimeconfig.json"], Directory.GetFiles(bundle, "*.runtimeconfig.json").Select(Path.GetFileName));
        Assert.Equal(["Rapid.Functions.deps.json"], Directory.GetFiles(bundle, "*.deps.json").Select(Path.GetFileName));
    }

    /// <summary>
    /// Each function starts (bundle found, assembly, type and method resolved from the template's
    /// handler string, handler object made) and its handler runs: a payload that is not its event
    /// comes back as the function error Step Functions would see, named after the exception.
    /// </summary>
    [Fact]
    public void Every_function_starts_from_its_bundle_and_its_handler_answers()
    {
        var functions = Functions().ToList();
        Assert.Equal(16, functions.Count);
        foreach (var function in functions)
        {
            var result = Invoke(function, "\"not an event\"");
            Assert.True(result["init"] is null, $"{function} did not start: {result["message"]}");
            Assert.False(result["ok"]!.GetValue<bool>(), $"{function} accepted a string: {result.ToJsonString()}");
            Assert.Equal("InvalidDataException", result["errorType"]!.GetValue<string>());
            Assert.NotEmpty(result["error"]!["stackTrace"]!.AsArray());
        }
    }

    /// <summary>
    /// ResolveWindow begins the night in the database, so here (no database) it can only be shown to run its own
    /// code: a bad window is named before the database is reached. Its answer for the default night in the
    /// template's time zone is tested on a real database (Rapid.Functions.Tests, ResolveWindowHandlerTests).
    /// </summary>
    [Fact]
    public void Resolve_window_names_a_bad_window_before_it_reaches_the_database()
    {
        var resolve = Functions().Single(f => f.StartsWith("FunctionsResolveWindow", StringComparison.Ordinal));
        var result = Invoke(resolve, """
            {"input": {"startDateTime":"2028-09-08 00:00:00","endDateTime":"2028-09-07 00:00:00"},
             "executionId": "arn:aws:states:us-west-2:123456789012:execution:Rapid-nightly:e1"}
            """);
        Assert.True(result["init"] is null, result.ToJsonString());
        Assert.False(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Contains("2028-09-07 00:00:00", result["errorMessage"]!.GetValue<string>());
        Assert.DoesNotContain("Npgsql", result.ToJsonString());
    }

    /// <summary>
    /// RecordBatchEvents from its bundle, as its event source mapping invokes it: an SQS batch whose first body is a recorded
    /// "Batch Job State Change" event (an array parent: nothing to record, so no database is needed) and whose second is not
    /// an event. The partial batch response names only the second message.
    /// </summary>
    [Fact]
    public void RecordBatchEvents_reads_a_recorded_batch_event_and_reports_only_the_bad_message()
    {
        var record = Functions().Single(f => f.StartsWith("FunctionsRecordBatchEvents", StringComparison.Ordinal));
        var sample = File.ReadAllText(Path.Combine(Rapid.Cdk.Configuration.RepositoryRoot.Find(),
            "Rapid.Functions.Tests", "Lambda", "Events", "batch-job-state-change-array-parent-failed.json"));
        var payload = new JsonObject
        {
            ["Records"] = new JsonArray(
                new JsonObject { ["messageId"] = "m1", ["body"] = sample, ["eventSource"] = "aws:sqs" },
                new JsonObject { ["messageId"] = "m2", ["body"] = "not an event", ["eventSource"] = "aws:sqs" }),
        };

        var result = Invoke(record, payload.ToJsonString());

        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        var failures = result["response"]!["batchItemFailures"]!.AsArray();
        Assert.Equal(["m2"], failures.Select(f => f!["itemIdentifier"]!.GetValue<string>()));
    }

    /// <summary>Defect 1 of issue 9: without its runtimeconfig.json the bootstrap stops the function (exit 106) before any code runs.</summary>
    [Fact]
    public void A_bundle_without_its_runtime_config_never_starts()
    {
        using var copy = new BundleCopy(Bundle());
        File.Delete(Path.Combine(copy.Path, "Rapid.Functions.runtimeconfig.json"));
        var result = Invoke(Functions().First(), "{}", "--bundle", copy.Path);
        Assert.True(result["init"]?.GetValue<bool>(), result.ToJsonString());
        Assert.Contains("bootstrap exit 106", result["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Rapid.Functions::Rapid.Functions.Lambda.ResolveWindowHandlr::Handle", "Unable to load type")]
    [InlineData("Rapid.Function::Rapid.Functions.Lambda.ResolveWindowHandler::Handle", "Could not find the specified handler assembly")]
    [InlineData("Rapid.Functions::Rapid.Functions.Lambda.ResolveWindowHandler::Run", "Unable to find method 'Run'")]
    [InlineData("Rapid.Functions.Lambda.ResolveWindowHandler::Handle", "Invalid lambda function handler")]
    public void A_wrong_handler_string_never_starts(string handler, string message)
    {
        var result = Invoke(Functions().First(), "{}", "--handler", handler);
        Assert.True(result["init"]?.GetValue<bool>(), result.ToJsonString());
        Assert.Contains(message, result["message"]!.GetValue<string>());
    }

    [Fact]
    public void A_missing_dependency_fails_the_function()
    {
        using var copy = new BundleCopy(Bundle());
        File.Delete(Path.Combine(copy.Path, "Npgsql.dll"));
        var plan = Functions().Single(f => f.StartsWith("FunctionsPlanScience", StringComparison.Ordinal));
        var result = Invoke(plan, """{"startDateTime":"2028-09-07 00:00:00","endDateTime":"2028-09-08 00:00:00","procDate":"20280908","force":false}""", "--bundle", copy.Path);
        Assert.False(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Contains("Npgsql", result.ToJsonString());
    }

    /// <summary>A function started without a variable the template gives it stops on that variable, naming it.</summary>
    [Theory]
    [InlineData("RAPID_DB_SECRET_ID")]
    [InlineData("RAPID_DB_HOST")]
    public void A_variable_the_template_does_not_set_fails_the_function_naming_it(string variable)
    {
        var plan = Functions().Single(f => f.StartsWith("FunctionsPlanScience", StringComparison.Ordinal));
        var result = Invoke(plan, """{"startDateTime":"2028-09-07 00:00:00","endDateTime":"2028-09-08 00:00:00","procDate":"20280908","force":false}""", "--unset", variable);
        Assert.False(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Contains(variable, result["errorMessage"]!.GetValue<string>());
    }

    /// <summary>The directory the template's functions' Code names, in the cloud assembly: what a deploy zips and uploads.</summary>
    private string Bundle()
    {
        var function = stack.Resources("AWS::Lambda::Function").First(f => OpsDatabaseTests.IsOperationsStep(f.Resource)).Resource;
        var hash = function["Properties"]!["Code"]!["S3Key"]!.GetValue<string>().Replace(".zip", "", StringComparison.Ordinal);
        var source = stack.Assets["files"]![hash]!["source"]!;
        Assert.Equal("zip", source["packaging"]!.GetValue<string>());
        return Path.Combine(Path.GetDirectoryName(stack.TemplatePath)!, source["path"]!.GetValue<string>());
    }

    private JsonObject Invoke(string function, string payload, params string[] extra)
    {
        var run = NodeScript.Run(Path.Combine("tools", "lambda-runtime", "invoke.mjs"),
            new[]
            {
                "--template", stack.TemplatePath, "--function", function,
                "--runtime-host", Path.Combine(AppContext.BaseDirectory, "Rapid.LambdaRuntimeHost.dll"), "--db", NoDatabase, "--payload", payload,
            }.Concat(extra), TimeSpan.FromMinutes(2));
        if (run.ExitCode != 0)
            throw new InvalidOperationException($"invoke.mjs {function} failed (exit {run.ExitCode}):\n{run.Stderr}\n{run.Stdout}");
        return JsonNode.Parse(run.Stdout)!.AsObject();
    }

    private sealed class BundleCopy : IDisposable
    {
        public BundleCopy(string bundle)
        {
            Path = Directory.CreateTempSubdirectory("rapid-bundle-copy-").FullName;
            foreach (var file in Directory.GetFiles(bundle)) File.Copy(file, System.IO.Path.Combine(Path, System.IO.Path.GetFileName(file)));
        }

        public string Path { get; }

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
