using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Tests.Support;

/// <summary>
/// One synthesized RapidStack, shared by every test class of a collection: jsii start-up and synth
/// take seconds, so the template is built once. The context is the repository's cdk.json (its
/// settings and feature flags, as <c>npx cdk synth</c> reads them) with the test's keys over it, plus
/// the path and asset metadata the CDK CLI asks for. The stack's name is <c>rapid:stackName</c>, as
/// in Program.cs. A stack without <c>rapid:functionsPublishDir</c> bundles the Lambda code for real
/// (<c>dotnet publish</c> at synth, as a deploy does); the Docker image is only fingerprinted.
/// </summary>
public abstract class SynthesizedStack : IDisposable
{
    public const string Account = "123456789012";
    public const string Region = "us-west-2";

    private readonly DirectoryInfo _workDirectory;

    public Template Template { get; }
    public RapidStack Stack { get; }
    /// <summary>The template as written to cdk.out, for checks that walk it directly.</summary>
    public JsonObject Json { get; }
    /// <summary>The template's file in the cloud assembly (its asset manifest and assets beside it).</summary>
    public string TemplatePath { get; }
    /// <summary>The cloud assembly's asset manifest (file and Docker image assets).</summary>
    public JsonObject Assets { get; }

    protected SynthesizedStack(IDictionary<string, object> context)
    {
        _workDirectory = Directory.CreateTempSubdirectory("rapid-cdk-tests-");
        var fullContext = RepositoryContext();
        foreach (var (key, value) in context) fullContext[key] = value;
        fullContext["aws:cdk:enable-path-metadata"] = true;
        fullContext["aws:cdk:enable-asset-metadata"] = true;
        var app = new App(new AppProps { Context = fullContext, Outdir = _workDirectory.CreateSubdirectory("cdk.out").FullName });
        var stackName = fullContext.TryGetValue("rapid:stackName", out var name) && name is string s && s.Length > 0 ? s : "Rapid";
        var stack = new RapidStack(app, stackName, new StackProps { Env = new Amazon.CDK.Environment { Account = Account, Region = Region } });
        Stack = stack;
        var assembly = app.Synth();
        Template = Template.FromStack(stack);
        var artifact = assembly.GetStackByName(stack.StackName);
        TemplatePath = artifact.TemplateFullPath;
        Json = JsonNode.Parse(File.ReadAllText(TemplatePath))!.AsObject();
        Assets = JsonNode.Parse(File.ReadAllText(Path.Combine(assembly.Directory, $"{stack.StackName}.assets.json")))!.AsObject();
    }

    /// <summary>A directory for a stack that skips bundling (its tests look at the template, not at the code).</summary>
    protected static string PlaceholderFunctionsBundle()
    {
        var publish = Directory.CreateTempSubdirectory("rapid-cdk-tests-functions-");
        File.WriteAllText(Path.Combine(publish.FullName, "Rapid.Functions.dll"), "not code: bundling skipped in these tests");
        return publish.FullName;
    }

    /// <summary>cdk.json's context, with JSON values as the CDK CLI passes them (strings, numbers, booleans, lists).</summary>
    private static Dictionary<string, object> RepositoryContext()
    {
        var cdkJson = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "cdk.json")))!;
        var context = new Dictionary<string, object>();
        foreach (var (key, value) in cdkJson["context"]!.AsObject())
            context[key] = value!.GetValueKind() switch
            {
                JsonValueKind.String => value.GetValue<string>(),
                JsonValueKind.True or JsonValueKind.False => value.GetValue<bool>(),
                JsonValueKind.Number => value.GetValue<double>() is var d && d == Math.Floor(d) ? (object)(long)d : d,
                JsonValueKind.Array => value.AsArray().Select(v => v!.ToString()).ToArray(),
                _ => value.ToJsonString(),
            };
        return context;
    }

    public IEnumerable<(string Id, JsonObject Resource)> Resources(string type) =>
        Json["Resources"]!.AsObject()
            .Where(r => r.Value!["Type"]!.GetValue<string>() == type)
            .Select(r => (r.Key, r.Value!.AsObject()));

    /// <summary>The logical id of a construct of the stack (its default CloudFormation resource).</summary>
    public string LogicalId(Constructs.IConstruct construct) =>
        Stack.GetLogicalId((CfnElement)construct.Node.DefaultChild!);

    public void Dispose()
    {
        try { _workDirectory.Delete(recursive: true); }
        catch (IOException) { /* a leftover temp directory is harmless */ }
        GC.SuppressFinalize(this);
    }
}

/// <summary>The default configuration (cdk.json as it is: new VPC, new database), with an alarm e-mail set; the Lambda code bundled for real.</summary>
public sealed class DefaultStack() : SynthesizedStack(new Dictionary<string, object>
{
    ["rapid:alarmEmail"] = "ops@example.org",
});

/// <summary>The default stack, and the second stack of the same account (two deployments side by side).</summary>
[CollectionDefinition(Name)]
public sealed class DefaultStackCollection : ICollectionFixture<DefaultStack>, ICollectionFixture<SecondStack>
{
    public const string Name = "default stack";
}
