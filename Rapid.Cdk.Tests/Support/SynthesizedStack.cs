using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.Assertions;

namespace Rapid.Cdk.Tests.Support;

/// <summary>
/// One synthesized RapidStack, shared by every test class of a collection: jsii start-up and
/// synth take seconds, so the template is built once. Lambda bundling is skipped by pointing
/// rapid:functionsPublishDir at a directory of this fixture (the tests look at the template,
/// not at the code); the Docker image is only fingerprinted, as in any synth.
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
    /// <summary>The cloud assembly's asset manifest (file and Docker image assets).</summary>
    public JsonObject Assets { get; }

    protected SynthesizedStack(IDictionary<string, object> context)
    {
        _workDirectory = Directory.CreateTempSubdirectory("rapid-cdk-tests-");
        var publish = _workDirectory.CreateSubdirectory("functions");
        File.WriteAllText(Path.Combine(publish.FullName, "Rapid.Functions.dll"), "not code: bundling skipped in tests");
        var fullContext = new Dictionary<string, object>(context)
        {
            ["rapid:functionsPublishDir"] = publish.FullName,
            ["@aws-cdk/customresources:installLatestAwsSdkDefault"] = false,
        };
        var app = new App(new AppProps { Context = fullContext, Outdir = _workDirectory.CreateSubdirectory("cdk.out").FullName });
        var stack = new RapidStack(app, "Rapid", new StackProps { Env = new Amazon.CDK.Environment { Account = Account, Region = Region } });
        Stack = stack;
        var assembly = app.Synth();
        Template = Template.FromStack(stack);
        var artifact = assembly.GetStackByName(stack.StackName);
        Json = JsonNode.Parse(File.ReadAllText(artifact.TemplateFullPath))!.AsObject();
        Assets = JsonNode.Parse(File.ReadAllText(Path.Combine(assembly.Directory, $"{stack.StackName}.assets.json")))!.AsObject();
    }

    public IEnumerable<(string Id, JsonObject Resource)> Resources(string type) =>
        Json["Resources"]!.AsObject()
            .Where(r => r.Value!["Type"]!.GetValue<string>() == type)
            .Select(r => (r.Key, r.Value!.AsObject()));

    public void Dispose()
    {
        try { _workDirectory.Delete(recursive: true); }
        catch (IOException) { /* a leftover temp directory is harmless */ }
        GC.SuppressFinalize(this);
    }
}

/// <summary>The default configuration (new VPC, new database), with an alarm e-mail set.</summary>
public sealed class DefaultStack() : SynthesizedStack(new Dictionary<string, object>
{
    ["rapid:alarmEmail"] = "ops@example.org",
});

[CollectionDefinition(Name)]
public sealed class DefaultStackCollection : ICollectionFixture<DefaultStack>
{
    public const string Name = "default stack";
}
