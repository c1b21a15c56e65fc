using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Scheduler;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Resources;

/// <summary>
/// Starts the nightly workflow on a cron in a time zone (EventBridge Scheduler: plain EventBridge
/// rules only know UTC, and the night follows local time across daylight saving). The input is
/// empty, so ResolveWindow picks the previous night in the operations time zone.
/// </summary>
public sealed class NightlySchedule : Construct
{
    /// <summary>The execution input the schedule sends: every field left to its default.</summary>
    public const string Input = "{}";

    public CfnSchedule? Schedule { get; }

    public NightlySchedule(Construct scope, string id, ScheduleSettings settings, IStateMachine stateMachine) : base(scope, id)
    {
        // Only schedules of this account may assume the role (EventBridge Scheduler's guidance against
        // the confused deputy: a condition on aws:SourceAccount).
        var role = new Role(this, "Role", new RoleProps
        {
            AssumedBy = new ServicePrincipal("scheduler.amazonaws.com", new ServicePrincipalOpts
            {
                Conditions = new Dictionary<string, object>
                {
                    ["StringEquals"] = new Dictionary<string, object> { ["aws:SourceAccount"] = Amazon.CDK.Aws.ACCOUNT_ID },
                },
            }),
            Description = "EventBridge Scheduler: start the Rapid nightly workflow",
        });
        stateMachine.GrantStartExecution(role);

        Schedule = new CfnSchedule(this, "Schedule", new CfnScheduleProps
        {
            Description = "Start the nightly workflow for the previous night",
            ScheduleExpression = settings.Cron,
            ScheduleExpressionTimezone = settings.TimeZone,
            State = settings.Enabled ? "ENABLED" : "DISABLED",
            FlexibleTimeWindow = new CfnSchedule.FlexibleTimeWindowProperty { Mode = "OFF" },
            Target = new CfnSchedule.TargetProperty
            {
                Arn = stateMachine.StateMachineArn,
                RoleArn = role.RoleArn,
                Input = Input,
                RetryPolicy = new CfnSchedule.RetryPolicyProperty { MaximumRetryAttempts = 3, MaximumEventAgeInSeconds = 3600 },
            },
        });
    }
}
