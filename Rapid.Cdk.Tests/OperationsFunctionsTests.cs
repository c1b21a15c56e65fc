using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class OperationsFunctionsTests(DefaultStack stack)
{
    private static readonly string[] Steps =
        ["ResolveWindow", "PlanReferences", "PlanScience", "PlanPostProc", "PlanNightRecovery", "Register", "RegisterStream", "Summarize", "Migrate"];

    private List<System.Text.Json.Nodes.JsonNode> StepFunctions() =>
        stack.Resources("AWS::Lambda::Function").Where(f => OpsDatabaseTests.IsOperationsStep(f.Resource))
            .Select(f => f.Resource["Properties"]!).ToList();

    [Fact]
    public void One_function_per_step_with_its_stream_handler()
    {
        var handlers = StepFunctions().Select(f => f["Handler"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(Steps.Select(s => $"Rapid.Functions::Rapid.Functions.Lambda.{s}Handler::Handle").Order().ToList(), handlers);
    }

    [Fact]
    public void Every_step_runs_on_dotnet10_inside_the_vpc()
    {
        foreach (var function in StepFunctions())
        {
            Assert.Equal("dotnet10", function["Runtime"]!.GetValue<string>());
            Assert.NotEmpty(function["VpcConfig"]!["SubnetIds"]!.AsArray());
            Assert.NotEmpty(function["VpcConfig"]!["SecurityGroupIds"]!.AsArray());
        }
    }

    [Fact]
    public void Every_step_has_the_secrets_extension_and_its_settings()
    {
        foreach (var function in StepFunctions())
        {
            var layer = Assert.Single(function["Layers"]!.AsArray())!.ToJsonString();
            Assert.Contains("AWS-Parameters-and-Secrets-Lambda-Extension", layer);
            var variables = function["Environment"]!["Variables"]!.AsObject();
            foreach (var name in new[]
                     {
                         "RAPID_DATA_BUCKET", "RAPID_PIPELINE_BUCKET", "RAPID_PRODUCTS_BUCKET", "RAPID_LOGS_BUCKET",
                         "RAPID_DB_HOST", "RAPID_DB_PORT", "RAPID_DB_NAME", "RAPID_DB_SECRET_ID", "RAPID_TIME_ZONE",
                         "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "RAPID_REFERENCE_GRID", "RAPID_FAKE_SOURCES",
                         "RAPID_MAX_ARRAY_SIZE", "RAPID_SOURCE_REVISION",
                     })
                Assert.True(variables.ContainsKey(name), $"{function["Handler"]} lacks {name}");
            Assert.Equal("America/Los_Angeles", variables["RAPID_TIME_ZONE"]!.GetValue<string>());
            Assert.Equal("7000", variables["RAPID_REFERENCE_GRID"]!.GetValue<string>());
            Assert.Equal("50", variables["RAPID_FAKE_SOURCES"]!.GetValue<string>());
            Assert.Equal("10000", variables["RAPID_MAX_ARRAY_SIZE"]!.GetValue<string>());
            Assert.Equal(stack.Stack.Revision.Value, variables["RAPID_SOURCE_REVISION"]!.GetValue<string>());
        }
    }

    [Fact]
    public void The_revision_is_the_repositorys_head()
    {
        var head = Git("rev-parse", "HEAD");
        Assert.Matches("^[0-9a-f]{40}(-dirty)?$", stack.Stack.Revision.Value);
        Assert.StartsWith(head, stack.Stack.Revision.Value, StringComparison.Ordinal);
    }

    /// <summary>Each step's role has inline statements only: no AWS-managed policy (cdk-nag IAM4).</summary>
    [Fact]
    public void Every_step_has_its_own_role_without_managed_policies()
    {
        var roles = StepFunctions().Select(f => f["Role"]!["Fn::GetAtt"]![0]!.GetValue<string>()).ToList();
        Assert.Equal(roles.Count, roles.Distinct().Count());
        foreach (var role in roles)
            Assert.Null(stack.Json["Resources"]![role]!["Properties"]!["ManagedPolicyArns"]);
    }

    private static string Git(params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo("git") { RedirectStandardOutput = true, WorkingDirectory = Rapid.Cdk.Configuration.RepositoryRoot.Find() };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var git = System.Diagnostics.Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd().Trim();
        git.WaitForExit();
        return output;
    }

    [Fact]
    public void Migrate_runs_five_minutes_and_may_only_read_the_database_secrets()
    {
        var (id, function) = stack.Resources("AWS::Lambda::Function")
            .Single(f => f.Resource["Properties"]!["Handler"]?.GetValue<string>() == "Rapid.Functions::Rapid.Functions.Lambda.MigrateHandler::Handle");
        var props = function["Properties"]!;
        Assert.Equal("dotnet10", props["Runtime"]!.GetValue<string>());
        Assert.Equal(300, props["Timeout"]!.GetValue<int>());
        var roleId = props["Role"]!["Fn::GetAtt"]![0]!.GetValue<string>();
        var actions = stack.Resources("AWS::IAM::Policy")
            .Where(p => p.Resource["Properties"]!["Roles"]!.AsArray().Any(r => r!["Ref"]?.GetValue<string>() == roleId))
            .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray())
            .SelectMany(s => s!["Action"] is System.Text.Json.Nodes.JsonArray a ? a.Select(x => x!.GetValue<string>()) : [s["Action"]!.GetValue<string>()])
            .ToHashSet();
        Assert.Contains("secretsmanager:GetSecretValue", actions);
        var other = actions.Where(a => !a.StartsWith("secretsmanager:", StringComparison.Ordinal) && !a.StartsWith("xray:", StringComparison.Ordinal)
            && a is not ("logs:CreateLogStream" or "logs:PutLogEvents") && !Rapid.Cdk.Resources.OperationsFunctions.VpcNetworkInterfaceActions.Contains(a)).ToList();
        Assert.True(other.Count == 0, $"{id} may also: {string.Join(", ", other)}");
    }
}
