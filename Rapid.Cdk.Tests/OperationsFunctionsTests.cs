using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class OperationsFunctionsTests(DefaultStack stack, SecondStack small)
{
    private static readonly string[] Steps =
        ["ResolveWindow", "PlanReferences", "PlanScience", "PlanPostProc", "PlanNightRecovery", "Register", "RegisterStream", "Summarize", "Migrate",
         "PlanRetry", "ReleaseNight", "RecordBatchEvents", "Ingest", "SubmitJob", "ReadJobs", "CloseExecution"];

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

    /// <summary>The statements of the role of the step whose handler is <c>{step}Handler</c>.</summary>
    private static List<System.Text.Json.Nodes.JsonNode> StatementsOf(SynthesizedStack stack, string step)
    {
        var (_, function) = stack.Resources("AWS::Lambda::Function")
            .Single(f => f.Resource["Properties"]!["Handler"]?.GetValue<string>() == $"Rapid.Functions::Rapid.Functions.Lambda.{step}Handler::Handle");
        var roleId = function["Properties"]!["Role"]!["Fn::GetAtt"]![0]!.GetValue<string>();
        return stack.Resources("AWS::IAM::Policy")
            .Where(p => p.Resource["Properties"]!["Roles"]!.AsArray().Any(r => r!["Ref"]?.GetValue<string>() == roleId))
            .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray()).Select(s => s!).ToList();
    }

    private static List<string> ResourcesOf(IEnumerable<System.Text.Json.Nodes.JsonNode> statements, string action) =>
        statements.Where(s => Actions(s).Contains(action))
            .SelectMany(s => s["Resource"] is System.Text.Json.Nodes.JsonArray a ? a.Select(r => r!.ToJsonString()) : [s["Resource"]!.ToJsonString()])
            .ToList();

    private static IEnumerable<string> Actions(System.Text.Json.Nodes.JsonNode statement) =>
        statement["Action"] is System.Text.Json.Nodes.JsonArray a ? a.Select(x => x!.GetValue<string>()) : [statement["Action"]!.GetValue<string>()];

    /// <summary>
    /// Issue 9: Summarize writes the night report ({procdate}/rapid_night_report_{procdate}.html in the products bucket)
    /// and may write nothing else; it reads the jobs' products (the report's cutouts) and the jobs' logs (failure tails).
    /// </summary>
    [Fact]
    public void Summarize_may_write_only_the_night_report_and_read_only_the_jobs_products_and_logs()
    {
        var statements = StatementsOf(stack, "Summarize");
        // Policies are minimized (statements of the same actions merged): look at each granted resource.
        var writes = ResourcesOf(statements, "s3:PutObject");
        var write = Assert.Single(writes);
        Assert.Contains("StorageProducts", write, StringComparison.Ordinal);
        Assert.Contains("/*/rapid_night_report_*.html", write, StringComparison.Ordinal);
        Assert.DoesNotContain(statements, s => Actions(s).Contains("s3:PutObject") && Actions(s).Any(a => a is "s3:GetObject" or "s3:DeleteObject"));

        var reads = ResourcesOf(statements, "s3:GetObject");
        Assert.Equal(2, reads.Count);
        Assert.Single(reads, r => r.Contains("StorageProducts", StringComparison.Ordinal) && r.Contains("/*/jid*/*", StringComparison.Ordinal));
        Assert.Single(reads, r => r.Contains("StorageLogs", StringComparison.Ordinal) && r.Contains("/*/rapid_pipeline_job_*_log.txt", StringComparison.Ordinal));
        Assert.DoesNotContain(statements, s => Actions(s).Any(a => a.StartsWith("s3:Delete", StringComparison.Ordinal)));
    }

    /// <summary>Issue 9: the night report's vCPU-hours use the vCPUs the job definitions reserve (ppid 18 runs on post-processing's).</summary>
    [Fact]
    public void Summarize_is_given_the_job_definitions_vcpus_per_pipeline()
    {
        Assert.Equal("12=4,15=4,17=1,18=1", Variable(stack, "Summarize", "RAPID_JOB_VCPUS"));
        foreach (var synthesized in new SynthesizedStack[] { stack, small })
        {
            // What the handler parses is what the job definitions reserve.
            var perPpid = Rapid.Functions.Report.NightReportOptions.ParseJobVcpus(Variable(synthesized, "Summarize", "RAPID_JOB_VCPUS"));
            Assert.Equal([12, 15, 17, 18], perPpid.Keys.Order());
            foreach (var (ppid, definition) in new[] { (12, "Reference"), (15, "Science"), (17, "PostProcessing"), (18, "PostProcessing") })
                Assert.Equal(JobDefinitionVcpus(synthesized, definition), perPpid[ppid]);
        }
        Assert.Equal(SecondStack.ScienceVcpus, JobDefinitionVcpus(small, "Science"));
    }

    private static int JobDefinitionVcpus(SynthesizedStack stack, string name) =>
        int.Parse(stack.Resources("AWS::Batch::JobDefinition").Single(j => j.Id.Contains(name + "Job", StringComparison.Ordinal))
            .Resource["Properties"]!["ContainerProperties"]!["ResourceRequirements"]!.AsArray()
            .Single(r => r!["Type"]!.GetValue<string>() == "VCPU")!["Value"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);

    private static string Variable(SynthesizedStack stack, string step, string name) =>
        stack.Resources("AWS::Lambda::Function")
            .Single(f => f.Resource["Properties"]!["Handler"]?.GetValue<string>() == $"Rapid.Functions::Rapid.Functions.Lambda.{step}Handler::Handle")
            .Resource["Properties"]!["Environment"]!["Variables"]![name]!.GetValue<string>();
}
