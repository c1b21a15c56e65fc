using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class NightlyScheduleTests(DefaultStack stack)
{
    [Fact]
    public void Starts_the_workflow_nightly_in_the_operations_time_zone_with_default_input()
    {
        var (_, schedule) = stack.Resources("AWS::Scheduler::Schedule").Single();
        var props = schedule["Properties"]!;
        Assert.Equal("cron(30 8 * * ? *)", props["ScheduleExpression"]!.GetValue<string>());
        Assert.Equal("America/Los_Angeles", props["ScheduleExpressionTimezone"]!.GetValue<string>());
        Assert.Equal("ENABLED", props["State"]!.GetValue<string>());
        var target = props["Target"]!;
        var machineId = stack.Resources("AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith("NightlyWorkflow", StringComparison.Ordinal)).Id;
        Assert.Equal(machineId, target["Arn"]!["Ref"]!.GetValue<string>());
        Assert.Equal("{}", target["Input"]!.GetValue<string>());
    }

    [Fact]
    public void Schedule_role_may_only_start_this_state_machine()
    {
        var machineId = stack.Resources("AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith("NightlyWorkflow", StringComparison.Ordinal)).Id;
        var (_, policy) = stack.Resources("AWS::IAM::Policy").Single(p => p.Id.StartsWith("NightlyScheduleRole", StringComparison.Ordinal));
        var statement = policy["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray().Single()!;
        Assert.Equal("states:StartExecution", statement["Action"]!.GetValue<string>());
        Assert.Equal(machineId, statement["Resource"]!["Ref"]!.GetValue<string>());
    }

    /// <summary>Defect 10 of issue 9. EventBridge Scheduler's guidance against the confused deputy: the role trusts the service only for this account's schedules.</summary>
    [Fact]
    public void Schedule_role_trusts_the_scheduler_only_for_this_account()
    {
        var (_, role) = stack.Resources("AWS::IAM::Role").Single(r => r.Id.StartsWith("NightlyScheduleRole", StringComparison.Ordinal));
        var statement = role["Properties"]!["AssumeRolePolicyDocument"]!["Statement"]!.AsArray().Single()!;
        Assert.Equal("scheduler.amazonaws.com", statement["Principal"]!["Service"]!.GetValue<string>());
        Assert.Equal("AWS::AccountId", statement["Condition"]!["StringEquals"]!["aws:SourceAccount"]!["Ref"]!.GetValue<string>());
    }
}
