using System.Text.Json.Nodes;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

/// <summary>
/// Issue 13 (the job API's diff on AWS) in the template: {stack}-diff is one <c>batch:submitJob.sync</c> of the science job
/// definition on the stack's queue, a single job (no array) whose RAPID_JOB_LIST is the execution input's <c>jobList</c>
/// (the list SubmitJob wrote: Rapid.Functions.Api.DiffOnAws); it invokes no λ, and its role may submit to that queue and
/// job definition only. The definition passes asl-validator.
/// </summary>
[Collection(DefaultStackCollection.Name)]
public sealed class DiffWorkflowTests(DefaultStack stack)
{
    [Fact]
    public void The_diff_machine_runs_the_input_s_job_list_as_one_science_job_and_nothing_else()
    {
        var (_, machine) = stack.Resources("AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith("DiffWorkflow", StringComparison.Ordinal));
        Assert.Equal("Rapid-diff", machine["Properties"]!["StateMachineName"]!.GetValue<string>());
        var validation = AslValidator.Validate(StateMachineDefinition.Extract(stack, "DiffWorkflow"));
        Assert.True(validation.ExitCode == 0, validation.Output);
        var definition = StateMachineDefinition.Parse(stack, "DiffWorkflow");
        Assert.Equal((12 + 1) * 3600, definition["TimeoutSeconds"]!.GetValue<int>());
        var run = Assert.Single(definition["States"]!.AsObject());
        Assert.Equal("RunDiff", definition["StartAt"]!.GetValue<string>());
        Assert.Equal("RunDiff", run.Key);
        Assert.True(run.Value!["End"]!.GetValue<bool>());
        Assert.Equal("arn:aws:states:::batch:submitJob.sync", run.Value["Resource"]!.GetValue<string>());
        var parameters = run.Value["Parameters"]!;
        Assert.Null(parameters["ArrayProperties"]);
        var science = stack.Resources("AWS::Batch::JobDefinition").Single(d => d.Id.StartsWith("BatchScience", StringComparison.Ordinal)).Id;
        Assert.EndsWith($"job-definition/{science}:1", parameters["JobDefinition"]!.GetValue<string>(), StringComparison.Ordinal);
        var environment = Assert.Single(parameters["ContainerOverrides"]!["Environment"]!.AsArray())!;
        Assert.Equal(("RAPID_JOB_LIST", "$.jobList"), (environment["Name"]!.GetValue<string>(), environment["Value.$"]!.GetValue<string>()));
        // No Catch: a failed job fails the execution, which CloseExecution closes (EventBridge; see EndedExecutionsTests).
        Assert.Null(run.Value["Catch"]);

        var roleId = machine["Properties"]!["RoleArn"]!["Fn::GetAtt"]![0]!.GetValue<string>();
        var statements = stack.Resources("AWS::IAM::Policy")
            .Where(p => p.Resource["Properties"]!["Roles"]!.AsArray().Any(r => r!["Ref"]?.GetValue<string>() == roleId))
            .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray()).Select(s => s!).ToList();
        static IEnumerable<string> Actions(JsonNode s) => s["Action"] is JsonArray a ? a.Select(x => x!.GetValue<string>()) : [s["Action"]!.GetValue<string>()];
        Assert.DoesNotContain(statements.SelectMany(Actions), a => a.StartsWith("lambda:", StringComparison.Ordinal) || a.StartsWith("s3:", StringComparison.Ordinal));
        var submit = Assert.Single(statements, s => Actions(s).Contains("batch:SubmitJob"));
        var resources = submit["Resource"]!.ToJsonString();
        Assert.Contains(science, resources, StringComparison.Ordinal);
        Assert.Contains(stack.Resources("AWS::Batch::JobQueue").Single().Id, resources, StringComparison.Ordinal);
        Assert.All(stack.Resources("AWS::Batch::JobDefinition").Where(d => d.Id != science), d => Assert.DoesNotContain(d.Id, resources, StringComparison.Ordinal));
    }
}
